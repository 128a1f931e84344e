// biome-ignore-all lint/suspicious/noExplicitAny: admin API JSON bodies are checked field by field with expect()
/** A gateway with the default extensions, a fake clock for the resilience stages, and its outcomes collected. */
import { pino } from 'pino';
import type { CallOutcome } from '../../src/core/outcome.ts';
import { defaultExtensions } from '../../src/extensions.ts';
import { createFakeClock, type FakeClock } from './fake-clock.ts';
import { type RunningGateway, startGateway } from './start-gateway.ts';

export interface ResilientGateway extends RunningGateway {
  clock: FakeClock;
  outcomes: CallOutcome[];
  /** POST JSON to the gateway with the master key. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

export const masterKey = 'mg-resilience';

export async function startResilientGateway(env: Record<string, string>): Promise<ResilientGateway> {
  const clock = createFakeClock();
  const outcomes: CallOutcome[] = [];
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const running = await startGateway(
    { MODELGATE_MASTER_KEY: masterKey, SQLITE_PATH: ':memory:', ...env },
    {
      extensions: [
        ...defaultExtensions(logger, { resilience: { clock, reloadSeconds: 0 } }),
        (gateway) => {
          gateway.bus.subscribe((outcome) => outcomes.push(outcome));
        },
      ],
    },
  );
  const headers = { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' };
  return {
    ...running,
    clock,
    outcomes,
    post: (path, body, extra = {}) => fetch(`${running.url}${path}`, { method: 'POST', headers: { ...headers, ...extra }, body: JSON.stringify(body) }),
    async admin(method, path, body) {
      const response = await fetch(`${running.url}/admin/api/v1${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: await response.json() };
    },
  };
}

/** The `data:` payloads of an SSE body. */
export function sseData(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => line.slice(6));
}
