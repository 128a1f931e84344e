/**
 * Many concurrent streams, half of them abandoned by their clients at random points: every upstream request of an
 * abandoned stream is aborted, every call emits exactly one outcome, and the gateway keeps serving afterwards.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CallOutcome } from '../src/core/outcome.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

let simulator: Simulator;
let running: RunningGateway;
const outcomes: CallOutcome[] = [];

beforeAll(async () => {
  // Slow chunks, so that clients can leave in the middle of a stream.
  simulator = await startOpenAISimulator({ apiKey: 'sk-storm', chunkDelayMs: 25 });
  running = await startGateway({ OPENAI_API_KEY: 'sk-storm', OPENAI_BASE_URL: simulator.baseUrl, SQLITE_PATH: ':memory:' });
  running.gateway.bus.subscribe((outcome) => outcomes.push(outcome));
});

afterAll(async () => {
  await running?.close();
  await simulator?.close();
});

it('survives 40 concurrent streams of which 20 are abandoned mid-stream', async () => {
  const words = 'one two three four five six seven eight nine ten eleven twelve';
  const run = async (index: number): Promise<{ requestId: string | null; abandoned: boolean; text: string }> => {
    const abandoned = index % 2 === 0;
    const controller = new AbortController();
    const response = await fetch(`${running.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': `storm-${index}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: `${index} ${words}` }] }),
      signal: controller.signal,
    });
    const reader = response.body?.getReader();
    const decoder = new TextDecoder();
    let text = '';
    let reads = 0;
    const leaveAfter = 1 + (index % 3);
    try {
      while (reader) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        reads += 1;
        if (abandoned && reads >= leaveAfter) {
          controller.abort();
          break;
        }
      }
    } catch {
      // the abort itself
    }
    return { requestId: response.headers.get('x-request-id'), abandoned, text };
  };
  const results = await Promise.all(Array.from({ length: 40 }, (_unused, index) => run(index)));
  for (const result of results.filter((entry) => !entry.abandoned)) {
    expect(result.text.endsWith('data: [DONE]\n\n')).toBe(true);
  }
  await expect.poll(() => outcomes.filter((outcome) => outcome.requestId.startsWith('storm-')).length, { timeout: 10_000 }).toBe(40);
  const byId = new Map(outcomes.map((outcome) => [outcome.requestId, outcome]));
  for (const result of results) {
    const outcome = byId.get(result.requestId ?? '');
    if (result.abandoned) {
      expect(outcome?.status).toBe(499);
    } else {
      expect(outcome).toMatchObject({ status: 200, usage: { outputTokens: 16 } });
    }
  }
  const upstream = simulator.requests.filter((request) => request.path === '/v1/chat/completions');
  await expect.poll(() => upstream.filter((request) => request.aborted).length, { timeout: 10_000 }).toBe(20);
  // Still healthy and serving.
  const after = await fetch(`${running.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'still there?' }] }),
  });
  expect(after.status).toBe(200);
});
