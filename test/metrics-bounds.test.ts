/**
 * Metric series stay bounded whatever model names clients send. 1,000 real calls with random unknown
 * model names (bare, answered 404 by the gateway; every other one `provider/name`, sent upstream and
 * answered), then 20,000 more call outcomes with random model and provider names through the gateway's
 * own outcome bus (the path every call's record takes; 20,000 HTTP calls would take minutes on a loaded
 * CI machine): /metrics stays small, labels are configured names or `other`, and the heap does not grow
 * with the names (20,000 label sets cost hundreds of MB).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CallOutcome } from '../src/core/outcome.ts';
import { createMetricsExtension } from '../src/metrics/metrics-extension.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

let simulator: Simulator;
let running: RunningGateway;
const masterKey = 'metrics-bounds-master-key';

beforeAll(async () => {
  simulator = await startOpenAISimulator({ apiKey: 'sk-metrics-bounds' });
  running = await startGateway(
    { OPENAI_API_KEY: 'sk-metrics-bounds', OPENAI_BASE_URL: simulator.baseUrl, MODELGATE_MASTER_KEY: masterKey },
    { extensions: [createMetricsExtension()] },
  );
});

afterAll(async () => {
  await running?.close();
  await simulator?.close();
});

async function metrics(): Promise<string> {
  return (await fetch(`${running.url}/metrics`, { headers: { authorization: `Bearer ${masterKey}` } })).text();
}

const series = (text: string) => text.split('\n').filter((line) => line.startsWith('modelgate_') && !line.startsWith('modelgate_process_')).length;

function randomOutcome(index: number): CallOutcome {
  const name = crypto.randomUUID();
  return {
    requestId: `bounds-${index}`,
    endpoint: index % 3 === 0 ? 'passthrough' : 'chat.completions',
    provider: index % 5 === 0 ? `provider-${name}` : 'openai',
    providerType: 'openai',
    requestedModel: name,
    model: index % 2 === 0 ? name : null,
    stream: index % 2 === 0,
    status: index % 7 === 0 ? 100_000 + index : 200,
    usage: { inputTokens: 3, outputTokens: 2, totalTokens: 5, cachedTokens: 0, reasoningTokens: 0, cacheWriteTokens: 0 },
    startedAt: new Date(),
    latencyMs: 5,
    firstByteMs: 1,
    error: null,
    keyId: null,
    cacheStatus: 'none',
    droppedParams: [],
    attempts: [{ provider: `p-${name}`, model: name, operation: 'chat', status: 200, error: null, latencyMs: 4 }],
    method: 'POST',
    path: '/v1/chat/completions',
  };
}

it('keeps /metrics small and memory bounded after 20,300 random model names', async () => {
  const call = async (index: number) => {
    const name = `${crypto.randomUUID()}-${index}`;
    const response = await fetch(`${running.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: index % 2 === 0 ? name : `openai/${name}`, messages: [{ role: 'user', content: 'hi' }] }),
    });
    await response.text();
    return response.status;
  };
  // Warm-up: the label sets these calls can make exist before counting.
  for (let index = 0; index < 10; index++) await call(index);
  for (let index = 0; index < 10; index++) running.gateway.bus.emit(randomOutcome(index));
  const before = await metrics();
  const heapBefore = process.memoryUsage().heapUsed;
  let next = 0;
  const statuses = new Map<number, number>();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < 300) {
        const status = await call(next++);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  expect(statuses.get(404) ?? 0).toBeGreaterThan(120);
  expect(statuses.get(200) ?? 0).toBeGreaterThan(120);
  for (let index = 0; index < 20_000; index++) running.gateway.bus.emit(randomOutcome(index));
  const after = await metrics();
  // The same label sets as before, with model="other": a few more series at most, not 21,000.
  expect(series(after)).toBeLessThan(series(before) + 100);
  expect(after.length).toBeLessThan(200_000);
  expect(after).toContain('model="other"');
  expect(after).toContain('provider="other"');
  expect(after).toContain('status="other"');
  expect(after).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
  expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(100 * 1024 * 1024);
}, 120_000);
