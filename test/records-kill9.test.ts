/**
 * kill -9 mid-burst loses no record (issue 8): a real gateway process serves 200 concurrent calls
 * (JSON and streams) through the OpenAI simulator and is killed with SIGKILL once some of them have
 * been answered. Restarted on the same database and spill directory, it replays the journal: every call
 * whose answer the client received (a JSON body, or a stream up to `data: [DONE]`) has exactly one usage
 * row and one audit row, and no call has two. On SQLite and on PostgreSQL.
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStorage } from '../src/storage/database.ts';
import { type GatewayProcess, startGatewayProcess } from './helpers/gateway-process.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const upstreamKey = 'sk-kill9-upstream-secret';
const model = 'kill9-model';
const calls = 200;

interface CallResult {
  requestId: string;
  stream: boolean;
  /** The client got the whole answer (a JSON body, or a stream up to [DONE]). */
  answered: boolean;
}

/** One call; never throws: a connection cut by the kill is an unanswered call. */
/** Every 20th call streams from `sim-hang-stream` (one chunk, then nothing): always in flight at the kill. */
const hanging = (index: number) => index % 20 === 19;

async function call(address: string, index: number, onAnswered: () => void): Promise<CallResult> {
  const stream = index % 2 === 1;
  const callModel = hanging(index) ? 'openai/sim-hang-stream' : model;
  const requestId = `kill9-${index}-${Date.now()}`;
  let text = '';
  try {
    const response = await fetch(`${address}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ model: callModel, stream, messages: [{ role: 'user', content: `call number ${index}` }] }),
    });
    if (response.status !== 200 || !response.body) return { requestId, stream, answered: false };
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body) text += decoder.decode(chunk as Uint8Array, { stream: true });
    } catch {
      // cut by the kill: what arrived counts
    }
  } catch {
    return { requestId, stream, answered: false };
  }
  let answered = false;
  if (stream) answered = text.includes('data: [DONE]');
  else {
    try {
      answered = Array.isArray((JSON.parse(text) as { choices?: unknown }).choices);
    } catch {
      answered = false;
    }
  }
  if (answered) onAnswered();
  return { requestId, stream, answered };
}

describe.each(['sqlite', 'postgresql'] as const)('kill -9 mid-burst on %s', (backendName) => {
  let backend: StorageBackend;
  let simulator: Simulator;
  const processes: GatewayProcess[] = [];

  beforeAll(async () => {
    backend = createBackend(backendName);
    simulator = await startOpenAISimulator({ apiKey: upstreamKey, models: [model], answerDelayMs: 25, chunkDelayMs: 10 });
  });

  afterAll(async () => {
    for (const gateway of processes) if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
    await Promise.all(processes.map((gateway) => gateway.exited));
    await simulator?.close();
    await backend?.cleanup();
  });

  it('stores one usage and one audit row for every answered call after a restart', { timeout: 180_000 }, async () => {
    const env = {
      OPENAI_API_KEY: upstreamKey,
      OPENAI_BASE_URL: simulator.baseUrl,
      LOGGING_ENABLED: 'true',
      ...backend.env,
    };
    const first = startGatewayProcess(env);
    processes.push(first);
    const address = await first.ready(90_000);

    let answeredCount = 0;
    let killed = false;
    const killAt = 60;
    const results: Promise<CallResult>[] = [];
    for (let index = 0; index < calls; index++) {
      results.push(
        call(address, index, () => {
          answeredCount += 1;
          if (!killed && answeredCount >= killAt) {
            killed = true;
            first.child.kill('SIGKILL');
          }
        }),
      );
      // Spread over about half a second, so the kill lands while calls are both answered and in flight.
      if (index % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const settled = await Promise.all(results);
    if (!killed) first.child.kill('SIGKILL');
    await first.exited;
    expect(first.child.signalCode).toBe('SIGKILL');
    const answered = settled.filter((result) => result.answered);
    // The kill came mid-burst: some calls were answered, others were cut (the hanging ones at least).
    expect(answered.length).toBeGreaterThanOrEqual(killAt);
    expect(answered.length).toBeLessThan(calls);
    expect(settled.filter((result, index) => hanging(index) && result.answered)).toEqual([]);
    expect(answered.some((result) => result.stream)).toBe(true);
    expect(answered.some((result) => !result.stream)).toBe(true);

    // Calls answered after the last commit are only in the killed process's journal, replayed by the next one.
    const second = startGatewayProcess(env);
    processes.push(second);
    await second.ready(90_000);

    const storage = await createStorage(backend.settings);
    try {
      const answeredIds = new Set(answered.map((result) => result.requestId));
      const stored = async (table: 'usage' | 'audit_log') =>
        (await storage.db.selectFrom(table).select(['id', 'request_id']).where('request_id', 'like', 'kill9-%').execute()).map(
          (row) => row.request_id,
        );
      await expect
        .poll(async () => (await stored('usage')).filter((id) => answeredIds.has(id)).length, { timeout: 30_000, interval: 200 })
        .toBe(answeredIds.size);
      await expect
        .poll(async () => (await stored('audit_log')).filter((id) => answeredIds.has(id)).length, { timeout: 30_000, interval: 200 })
        .toBe(answeredIds.size);
      for (const table of ['usage', 'audit_log'] as const) {
        const ids = await stored(table);
        // No call recorded twice (the journal and any spill file are replayed idempotently).
        expect(ids.length).toBe(new Set(ids).size);
        expect(ids.length).toBeLessThanOrEqual(calls);
      }
      const usage = await storage.db
        .selectFrom('usage')
        .selectAll()
        .where('request_id', 'in', [...answeredIds])
        .execute();
      expect(usage.every((row) => Number(row.status) === 200 && Number(row.output_tokens) > 0)).toBe(true);
    } finally {
      await storage.close();
    }
    // Replayed files are gone; only the live process's own journal segments may remain.
    await expect.poll(() => readdirSync(backend.spillDir).filter((name) => name.includes('.replay-')), { timeout: 10_000 }).toEqual([]);
    await second.stop();
    expect(second.output()).not.toContain(upstreamKey);
  });
});
