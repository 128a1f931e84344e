/**
 * The semantic cache layer end to end: the embedder is the gateway's own OpenAI provider over the
 * simulator, whose `sim-semantic-embed` model returns word-bag embeddings (similar texts near, negations
 * and numbers barely moving the vector: test/simulators/semantic-embeddings.ts). Vector stores:
 * sqlite-vec (embedded; pgvector is to come, tested against PGlite).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promptsAgree } from '../src/cache/semantic-guard.ts';
import { semanticText } from '../src/cache/semantic-text.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { semanticEmbedding } from './simulators/semantic-embeddings.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'mg-semantic-master';

const cosine = (left: number[], right: number[]) => left.reduce((sum, value, index) => sum + value * (right[index] ?? 0), 0);

describe('semantic cache units', () => {
  it('the simulator embeddings put similar and negated pairs near, dissimilar far', () => {
    const capital = semanticEmbedding('Tell me the capital of France');
    expect(cosine(capital, semanticEmbedding('tell me the capital of France please'))).toBeGreaterThan(0.95);
    expect(cosine(capital, semanticEmbedding('Write a poem about the sea'))).toBeLessThan(0.5);
    expect(cosine(semanticEmbedding('Is the sky green'), semanticEmbedding('Is the sky not green'))).toBeGreaterThan(0.95);
    expect(cosine(semanticEmbedding('Add 2 apples to 2 apples'), semanticEmbedding('Add 2 apples to 3 apples'))).toBeGreaterThan(0.95);
  });

  it('the guard wants the same negations and numbers', () => {
    expect(promptsAgree('Is the sky green', 'is the sky green?')).toBe(true);
    expect(promptsAgree('Is the sky green', 'Is the sky not green')).toBe(false);
    expect(promptsAgree("Isn't the sky green", 'Is the sky not green')).toBe(true);
    expect(promptsAgree('What is 2 plus 2', 'What is 2 plus 3')).toBe(false);
    expect(promptsAgree('I want two tickets', 'I want 2 tickets')).toBe(true);
    expect(promptsAgree('Costs 1,000 dollars', 'costs 1000 dollars')).toBe(true);
  });

  it('reads the last user message and fingerprints the earlier turns', () => {
    const first = semanticText('chat.completions', { messages: [{ role: 'system', content: 'terse' }, { role: 'user', content: 'Hi there' }] }, 3);
    const other = semanticText('chat.completions', { messages: [{ role: 'system', content: 'verbose' }, { role: 'user', content: 'Hi there' }] }, 3);
    expect(first?.prompt).toBe('Hi there');
    expect(first?.context).not.toBe(other?.context);
    expect(semanticText('responses', { input: 'Hello' }, 3)?.prompt).toBe('Hello');
    expect(semanticText('messages', { messages: [{ role: 'user', content: [{ type: 'text', text: 'Yo' }] }] }, 3)?.prompt).toBe('Yo');
    const long = Array.from({ length: 5 }, (_unused, index) => ({ role: index % 2 ? 'assistant' : 'user', content: `m${index}` }));
    expect(semanticText('chat.completions', { messages: long }, 3)).toBeNull();
    expect(semanticText('chat.completions', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, 3)).toBeNull();
  });
});

interface Backend {
  name: string;
  env: () => Promise<Record<string, string>>;
  stop: () => Promise<void>;
}

const backends: Backend[] = [{ name: 'sqlite-vec', env: async () => ({ SEMANTIC_CACHE_VECTOR_STORE: 'sqlite-vec' }), stop: async () => {} }];

describe.each(backends)('semantic cache on $name', (backend) => {
  let directory: string;
  let simulator: Simulator;
  let running: RunningGateway;
  let client: OpenAI;
  const upstreamChats = () => simulator.requests.filter((request) => request.path.endsWith('/chat/completions')).length;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'modelgate-semantic-'));
    simulator = await startOpenAISimulator({ apiKey: 'sk-semantic-upstream' });
    running = await startGateway({
      OPENAI_API_KEY: 'sk-semantic-upstream',
      OPENAI_BASE_URL: simulator.baseUrl,
      MODELGATE_MASTER_KEY: masterKey,
      STORAGE_TYPE: 'sqlite',
      SQLITE_PATH: join(directory, 'modelgate.db'),
      STORAGE_SPILL_DIR: join(directory, 'spill'),
      RESPONSE_CACHE_SIMPLE_ENABLED: 'true',
      SEMANTIC_CACHE_ENABLED: 'true',
      SEMANTIC_CACHE_EMBEDDER_PROVIDER: 'openai',
      SEMANTIC_CACHE_EMBEDDER_MODEL: 'sim-semantic-embed',
      ...(await backend.env()),
    });
    client = new OpenAI({ apiKey: masterKey, baseURL: `${running.url}/v1`, maxRetries: 0 });
  }, 180_000);

  afterAll(async () => {
    await running?.close();
    await simulator?.close();
    await backend.stop();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  const ask = (content: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...extra }, { headers }).withResponse();

  /** Stores happen after the answer is sent: wait until a lookup of `content` hits (or give up). */
  async function stored(content: string): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const { response } = await ask(content, {}, { 'x-cache-type': 'exact' });
      if (response.headers.get('x-cache') === 'HIT (exact)') return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`'${content}' was never stored`);
  }

  it('serves a similar prompt from the cache, with X-Cache-Similarity; not a dissimilar one', async () => {
    const first = await ask('Tell me the capital of France');
    expect(first.response.headers.get('x-cache')).toBe('MISS');
    await stored('Tell me the capital of France');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = upstreamChats();
    const similar = await ask('tell me the capital of France please');
    expect(similar.response.headers.get('x-cache')).toBe('HIT (semantic)');
    expect(Number(similar.response.headers.get('x-cache-similarity'))).toBeGreaterThanOrEqual(0.92);
    expect(similar.data.choices[0]?.message.content).toBe(first.data.choices[0]?.message.content);
    expect(upstreamChats()).toBe(before);
    const other = await ask('Write a poem about the sea');
    expect(other.response.headers.get('x-cache')).toBe('MISS');
  });

  it('never takes a negation or another number for the same question', async () => {
    await ask('Is the sky green');
    await stored('Is the sky green');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const negated = await ask('Is the sky not green');
    expect(negated.response.headers.get('x-cache')).toBe('MISS');
    expect(negated.data.choices[0]?.message.content).toContain('not green');
    await ask('Add 2 apples to 2 apples');
    await stored('Add 2 apples to 2 apples');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await ask('Add 2 apples to 3 apples')).response.headers.get('x-cache')).toBe('MISS');
  });

  it('keeps parameters, tenants and X-Cache-Type apart', async () => {
    await ask('Name a large ocean', { temperature: 0 });
    await stored('Name a large ocean');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await ask('name a large ocean please', { temperature: 0.5 })).response.headers.get('x-cache')).toBe('MISS');
    expect((await ask('name a large ocean please', {}, { 'x-cache-type': 'exact' })).response.headers.get('x-cache')).toBe('MISS');
    const key = await fetch(`${running.url}/admin/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'other tenant' }),
    });
    const secret = ((await key.json()) as { key: string }).key;
    const otherTenant = new OpenAI({ apiKey: secret, baseURL: `${running.url}/v1`, maxRetries: 0 });
    const answer = await otherTenant.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'name a large ocean please' }] }).withResponse();
    expect(answer.response.headers.get('x-cache')).toBe('MISS');
  });

  it('steps aside when the embedder fails', async () => {
    simulator.script('sim-semantic-embed', ['server-error']);
    const answer = await ask('A question while the embedder is down');
    expect(answer.response.headers.get('x-cache')).toBe('MISS');
    expect(answer.data.choices[0]?.message.content).toContain('embedder is down');
  });
});
