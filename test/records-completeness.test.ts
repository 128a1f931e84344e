/**
 * No record is dropped silently, and failures are recorded as failures:
 * - a 10,000-deep nested field in the first message of /v1/responses and /v1/messages (JSON.stringify
 *   throws while the audit row is built): the call still leaves a usage row and an audit row (in a
 *   minimal form that says why), and `modelgate_record_failures_total{record="audit"}` counts it;
 * - a native Responses stream that ends in `response.failed` is recorded as an error (502), not 200.
 * The status of the deep calls is not asserted here: the inbound depth limit is another part of issue 8.
 * Upstream wire formats: test/simulators/openai-simulator.ts and openai-responses-simulator.ts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'records-completeness-master';
let simulator: Simulator;
let running: RunningGateway;

beforeAll(async () => {
  simulator = await startOpenAISimulator({ apiKey: 'sk-records-completeness' });
  const directory = mkdtempSync(join(tmpdir(), 'modelgate-records-'));
  running = await startGateway({
    OPENAI_API_KEY: 'sk-records-completeness',
    OPENAI_BASE_URL: simulator.baseUrl,
    MODELGATE_MASTER_KEY: masterKey,
    SQLITE_PATH: join(directory, 'gateway.db'),
    LOGGING_ENABLED: 'true',
    LOGGING_LOG_BODIES: 'true',
    // Deep bodies are what this test sends; the inbound depth limit (when there is one) must let them through.
    MAX_JSON_DEPTH: '100000',
  });
});

afterAll(async () => {
  await running?.close();
  await simulator?.close();
});

const headers = { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' };

async function rows(path: string, requestId: string): Promise<Record<string, unknown>[]> {
  const response = await fetch(`${running.url}/admin/api/v1/${path}?request_id=${requestId}`, { headers });
  return ((await response.json()) as { data: Record<string, unknown>[] }).data;
}

async function failures(): Promise<number> {
  const text = await (await fetch(`${running.url}/metrics`, { headers })).text();
  return Number(/modelgate_record_failures_total\{record="audit"\} (\d+)/.exec(text)?.[1] ?? Number.NaN);
}

/** `{"a":{"a":...}}`, `depth` levels, as text (building it as an object and stringifying would throw here too). */
function deepJson(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

describe('records of calls with bodies too deep to serialise', () => {
  for (const [endpoint, body] of [
    ['responses', `{"model":"gpt-4o-mini","input":[{"role":"user","content":"hi","metadata_deep":${deepJson(10_000)}}]}`],
    ['messages', `{"model":"gpt-4o-mini","max_tokens":50,"messages":[{"role":"user","content":[{"type":"text","text":"hi","deep":${deepJson(10_000)}}]}]}`],
  ] as const) {
    it(`keeps a usage and an audit row for /v1/${endpoint} and counts the failure`, async () => {
      const before = await failures();
      const requestId = `deep-${endpoint}-${Date.now()}`;
      const response = await fetch(`${running.url}/v1/${endpoint}`, { method: 'POST', headers: { ...headers, 'x-request-id': requestId }, body });
      await response.text();
      const [usage, audit] = await Promise.all([rows('usage/log', requestId), rows('audit/log', requestId)]);
      expect(usage).toHaveLength(1);
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ request_id: requestId, status: response.status });
      expect((audit[0]?.error as { message?: string } | null)?.message).toContain('audit record incomplete (RangeError');
      expect(await failures()).toBe(before + 1);
    });
  }
});

describe('stream failures reported inside the stream', () => {
  it('records a native Responses stream that ends in response.failed as an error', async () => {
    const requestId = `failed-stream-${Date.now()}`;
    const response = await fetch(`${running.url}/v1/responses`, {
      method: 'POST',
      headers: { ...headers, 'x-request-id': requestId },
      body: JSON.stringify({ model: 'openai/sim-failed-stream', input: 'Hi', stream: true }),
    });
    const text = await response.text();
    expect(text).toContain('response.failed');
    const [usage, audit] = await Promise.all([rows('usage/log', requestId), rows('audit/log', requestId)]);
    expect(usage[0]).toMatchObject({ status: 502 });
    expect(audit[0]).toMatchObject({
      status: 502,
      error: { code: 'server_error', message: 'openai: The model failed to generate a response.' },
    });
  });
});
