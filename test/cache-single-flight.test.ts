/**
 * Identical cache misses at the same time go upstream once (src/cache/cache-stage.ts): a real gateway with
 * the embedded cache over an OpenAI simulator that takes 300 ms to answer. Concurrent identical JSON calls
 * make one upstream request and get the same answer (one MISS, the rest `HIT (exact)`); a first call that
 * fails stores nothing, and the calls that waited for it go upstream themselves; tenants, `no-store` and
 * streams are not coalesced. Counting the simulator's requests tells how many went upstream.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheGatewayEnv } from './helpers/cache-gateway-env.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'mg-single-flight-master';
let directory: string;
let simulator: Simulator;
let running: RunningGateway;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'modelgate-single-flight-'));
  simulator = await startOpenAISimulator({ apiKey: 'sk-single-flight', answerDelayMs: 300 });
  running = await startGateway({
    ...cacheGatewayEnv({ directory, upstreamUrl: simulator.baseUrl, upstreamKey: 'sk-single-flight', masterKey }),
    RETRY_MAX_RETRIES: '0',
  });
});

afterAll(async () => {
  await running?.close();
  await simulator?.close();
  if (directory) rmSync(directory, { recursive: true, force: true });
});

const upstreamChats = () => simulator.requests.filter((request) => request.path.endsWith('/chat/completions')).length;
let counter = 0;
const prompt = (text: string) => `${text} ${++counter}`;

async function ask(content: string, options: { key?: string; headers?: Record<string, string>; stream?: boolean } = {}) {
  const response = await fetch(`${running.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${options.key ?? masterKey}`, 'content-type': 'application/json', ...options.headers },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...(options.stream ? { stream: true } : {}) }),
  });
  return { status: response.status, cache: response.headers.get('x-cache'), text: await response.text() };
}

const together = <T>(count: number, call: () => Promise<T>) => Promise.all(Array.from({ length: count }, call));

describe('identical cache misses at the same time', () => {
  it('go upstream once; the others are answered from its entry', async () => {
    const content = prompt('What is the tallest mountain');
    const before = upstreamChats();
    const answers = await together(8, () => ask(content));
    expect(upstreamChats() - before).toBe(1);
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
    expect(answers.filter((answer) => answer.cache === 'MISS')).toHaveLength(1);
    expect(answers.filter((answer) => answer.cache === 'HIT (exact)')).toHaveLength(7);
    const texts = new Set(answers.map((answer) => JSON.parse(answer.text).choices[0].message.content));
    expect(texts.size).toBe(1);
  });

  it('go upstream each when the first call stores nothing', async () => {
    const content = prompt('Fails first');
    simulator.script('gpt-4o-mini', ['server-error']);
    const before = upstreamChats();
    const answers = await together(4, () => ask(content));
    // The first failed (nothing stored); the three that waited went upstream themselves, and may coalesce again among them.
    expect(answers.filter((answer) => answer.status >= 500)).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(3);
    expect(upstreamChats() - before).toBeGreaterThanOrEqual(2);
    expect(upstreamChats() - before).toBeLessThanOrEqual(4);
  });

  it('are not coalesced across tenants, with no-store, or for streams', async () => {
    const created = await fetch(`${running.url}/admin/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'other tenant' }),
    });
    const otherKey = ((await created.json()) as { key: string }).key;
    let content = prompt('Two tenants');
    let before = upstreamChats();
    await Promise.all([ask(content), ask(content, { key: otherKey })]);
    expect(upstreamChats() - before).toBe(2);

    content = prompt('No store');
    before = upstreamChats();
    const noStore = await together(3, () => ask(content, { headers: { 'cache-control': 'no-store' } }));
    expect(upstreamChats() - before).toBe(3);
    expect(noStore.every((answer) => answer.cache === 'BYPASS')).toBe(true);

    content = prompt('Streams');
    before = upstreamChats();
    const streams = await together(3, () => ask(content, { stream: true }));
    expect(upstreamChats() - before).toBe(3);
    expect(streams.every((answer) => answer.text.includes('[DONE]'))).toBe(true);
  });
});
