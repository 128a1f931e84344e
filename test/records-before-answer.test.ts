/**
 * A call's usage and audit records are in the journal before its client can see the end of its answer.
 *
 * The journals write the lines of one event-loop turn together, at the end of the turn
 * (src/core/record-barrier.ts); the HTTP layer waits for that write before it ends an answer. This test
 * watches the gateway's answers leave, through Node's own `ServerResponse` (its `end`, and each `write`
 * that carries a stream's last event: `data: [DONE]`, `response.completed`, `message_stop`), and looks at
 * that moment, synchronously, for the call's records: in a journal segment of the spill directory, or
 * already in the SQLite database. JSON answers, streams (SSE), an upstream error answered as JSON and one
 * on a streamed call, on chat completions, Responses and Messages. Without the wait every check fails
 * (the answer leaves before its lines are written); so do the stream checks when the last event may
 * leave before the records (a frame flush that does not wait).
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'records-before-answer-master';
const upstreamKey = 'sk-records-before-answer';
let simulator: Simulator;
let running: RunningGateway;
let directory: string;
let gatewayPort: number;

/** Per request id: whether its usage and audit records were durable each time a last part of its answer left. */
const seenAtEnd = new Map<string, { usage: boolean; audit: boolean }[]>();

function durableRecords(requestId: string): { usage: boolean; audit: boolean } {
  const needle = `"request_id":${JSON.stringify(requestId)}`;
  const spill = join(directory, 'spill');
  const found = { usage: false, audit: false };
  let names: string[] = [];
  try {
    names = readdirSync(spill);
  } catch {
    // no journal yet
  }
  for (const name of names) {
    const kind = name.startsWith('usage.journal-') ? 'usage' : name.startsWith('audit.journal-') ? 'audit' : null;
    if (!kind || found[kind]) continue;
    try {
      if (readFileSync(join(spill, name), 'utf8').includes(needle)) found[kind] = true;
    } catch {
      // a segment deleted since the listing: its records are committed, and found below
    }
  }
  if (found.usage && found.audit) return found;
  // Committed already (and the segment deleted): the drain ran between the write and the finish.
  const database = new BetterSqlite3(join(directory, 'gateway.db'), { readonly: true });
  try {
    found.usage ||= database.prepare('select 1 from usage where request_id = ?').get(requestId) !== undefined;
    found.audit ||= database.prepare('select 1 from audit_log where request_id = ?').get(requestId) !== undefined;
  } finally {
    database.close();
  }
  return found;
}

const lastEvents = ['data: [DONE]', 'response.completed', 'message_stop'];
const { write, end } = ServerResponse.prototype;

/** Checks the records of a gateway call when `chunk` is (or holds) the end of its answer. */
function observe(response: ServerResponse, chunk: unknown, isEnd: boolean): void {
  if (response.socket?.localPort !== gatewayPort) return;
  const requestId = response.req?.headers['x-request-id'];
  if (typeof requestId !== 'string' || !requestId.startsWith('before-answer-')) return;
  const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
  if (!isEnd && !lastEvents.some((event) => text.includes(event))) return;
  const seen = seenAtEnd.get(requestId) ?? [];
  seen.push(durableRecords(requestId));
  seenAtEnd.set(requestId, seen);
}

beforeAll(async () => {
  simulator = await startOpenAISimulator({ apiKey: upstreamKey });
  directory = mkdtempSync(join(tmpdir(), 'modelgate-before-answer-'));
  running = await startGateway({
    OPENAI_API_KEY: upstreamKey,
    OPENAI_BASE_URL: simulator.baseUrl,
    MODELGATE_MASTER_KEY: masterKey,
    SQLITE_PATH: join(directory, 'gateway.db'),
    STORAGE_SPILL_DIR: join(directory, 'spill'),
    LOGGING_ENABLED: 'true',
  });
  gatewayPort = Number(new URL(running.url).port);
  // Observed, then done as always.
  ServerResponse.prototype.write = function observedWrite(this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    observe(this, chunk, false);
    return (write as (...parameters: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof write;
  ServerResponse.prototype.end = function observedEnd(this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    if (!this.writableEnded) observe(this, chunk, true);
    return (end as (...parameters: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  } as typeof end;
});

afterAll(async () => {
  ServerResponse.prototype.write = write;
  ServerResponse.prototype.end = end;
  await running?.close();
  await simulator?.close();
});

const cases: { name: string; path: string; body: Record<string, unknown>; status: number }[] = [
  { name: 'chat JSON', path: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, status: 200 },
  {
    name: 'chat stream',
    path: '/v1/chat/completions',
    body: { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] },
    status: 200,
  },
  {
    name: 'chat upstream error',
    path: '/v1/chat/completions',
    body: { model: 'openai/sim-server-error', messages: [{ role: 'user', content: 'hi' }] },
    status: 502,
  },
  {
    name: 'chat stream upstream error',
    path: '/v1/chat/completions',
    body: { model: 'openai/sim-server-error', stream: true, messages: [{ role: 'user', content: 'hi' }] },
    status: 502,
  },
  { name: 'responses JSON', path: '/v1/responses', body: { model: 'gpt-4o-mini', input: 'hi' }, status: 200 },
  { name: 'responses stream', path: '/v1/responses', body: { model: 'gpt-4o-mini', input: 'hi', stream: true }, status: 200 },
  {
    name: 'messages JSON',
    path: '/v1/messages',
    body: { model: 'openai/gpt-4o-mini', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] },
    status: 200,
  },
  {
    name: 'messages stream',
    path: '/v1/messages',
    body: { model: 'openai/gpt-4o-mini', max_tokens: 32, stream: true, messages: [{ role: 'user', content: 'hi' }] },
    status: 200,
  },
];

describe('records are written before the answer ends', () => {
  it.each(cases)('$name', async ({ name, path, body, status }) => {
    const requestIds: string[] = [];
    // Several at once, so that their records share a turn (and a write), as under load.
    await Promise.all(
      Array.from({ length: 4 }, async (_unused, index) => {
        const requestId = `before-answer-${name.replaceAll(' ', '-')}-${index}-${Date.now()}`;
        requestIds.push(requestId);
        const response = await fetch(`${running.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json', 'x-request-id': requestId },
          body: JSON.stringify(body),
        });
        await response.text();
        expect(response.status).toBe(status);
      }),
    );
    for (const requestId of requestIds) {
      const seen = seenAtEnd.get(requestId) ?? [];
      // The end, at least; a stream's last event once more when it leaves before the end (it must not).
      expect(seen.length, requestId).toBeGreaterThanOrEqual(1);
      for (const check of seen) expect(check, requestId).toEqual({ usage: true, audit: true });
    }
  });
});
