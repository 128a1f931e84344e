/**
 * N gateway processes (`node src/main.ts`) started on one environment, for the tests that prove
 * multi-replica behaviour (shared PostgreSQL and Redis), plus the small admin/chat callers those
 * tests all need. The first replica runs the migrations; the others start on the migrated schema
 * (so two processes never race to create the same table).
 */
import { type GatewayProcess, startGatewayProcess } from './gateway-process.ts';

export interface ReplicaSet {
  processes: GatewayProcess[];
  /** Base URLs, in start order. */
  urls: string[];
  stop(): Promise<void>;
}

export async function startReplicaSet(env: Record<string, string>, count = 2, readyTimeoutMs = 120_000): Promise<ReplicaSet> {
  const processes: GatewayProcess[] = [];
  const urls: string[] = [];
  const stop = () => Promise.all(processes.map((replica) => replica.stop())).then(() => undefined);
  try {
    const first = startGatewayProcess(env);
    processes.push(first);
    urls.push(await first.ready(readyTimeoutMs));
    const rest = Array.from({ length: count - 1 }, () => startGatewayProcess(env));
    processes.push(...rest);
    urls.push(...(await Promise.all(rest.map((replica) => replica.ready(readyTimeoutMs)))));
  } catch (error) {
    await stop();
    throw error;
  }
  return { processes, urls, stop };
}

export interface JsonAnswer<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

async function jsonAnswer<T>(response: Response): Promise<JsonAnswer<T>> {
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text === '' ? {} : JSON.parse(text)) as T };
}

/** Calls `/admin/api/v1<path>` of a replica with the given admin key. */
export function createAdminCaller(adminKey: string) {
  return <T = Record<string, unknown>>(url: string, method: string, path: string, body?: unknown): Promise<JsonAnswer<T>> =>
    fetch(`${url}/admin/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).then((response) => jsonAnswer<T>(response));
}

export interface ChatAnswer {
  choices?: { message: { content: string } }[];
  error?: { code: string; message: string };
}

/** POST /v1/chat/completions on a replica with one user message. */
export function chatOnReplica(
  url: string,
  key: string,
  model: string,
  content = 'hello',
  extra: Record<string, unknown> = {},
): Promise<JsonAnswer<ChatAnswer>> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }], ...extra }),
  }).then((response) => jsonAnswer<ChatAnswer>(response));
}
