/**
 * The response cache's accounting and reach, through a real gateway (embedded store, SQLite records,
 * OpenAI simulator): a hit still passes authentication and counts against the key's rate limit (a hit
 * past the limit is refused with 429 like any call); the Gemini API (@google/genai) is cached like the
 * other APIs, streams included; `modelgate_cache_*` metrics count hits, misses, bypasses, stores and
 * evictions; the semantic layer's own embedding calls are usage rows of their own (cache_status
 * `embedder`, priced, the caller's request id and key) and show in the overview.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'mg-cache-accounting-master';
let directory: string;
let simulator: Simulator;
let running: RunningGateway;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'modelgate-cache-accounting-'));
  // The embedder's price (USD per million tokens), so its usage rows carry a cost.
  writeFileSync(join(directory, 'config.yaml'), 'pricing:\n  openai/sim-semantic-embed: { input: 20, output: 0 }\n');
  simulator = await startOpenAISimulator({ apiKey: 'sk-accounting-upstream' });
  running = await startGateway(
    {
      OPENAI_API_KEY: 'sk-accounting-upstream',
      OPENAI_BASE_URL: simulator.baseUrl,
      MODELGATE_MASTER_KEY: masterKey,
      STORAGE_TYPE: 'sqlite',
      SQLITE_PATH: join(directory, 'modelgate.db'),
      STORAGE_SPILL_DIR: join(directory, 'spill'),
      RESPONSE_CACHE_SIMPLE_ENABLED: 'true',
      RESPONSE_CACHE_MAX_ENTRIES: '20',
      SEMANTIC_CACHE_ENABLED: 'true',
      SEMANTIC_CACHE_EMBEDDER_PROVIDER: 'openai',
      SEMANTIC_CACHE_EMBEDDER_MODEL: 'sim-semantic-embed',
      SEMANTIC_CACHE_VECTOR_STORE: 'sqlite-vec',
    },
    { cwd: directory },
  );
});

afterAll(async () => {
  await running?.close();
  await simulator?.close();
  if (directory) rmSync(directory, { recursive: true, force: true });
});

async function chat(content: string, key = masterKey, headers: Record<string, string> = {}) {
  const response = await fetch(`${running.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as { error?: { code: string } } };
}

async function admin<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${running.url}/admin/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as T };
}

const upstreamChats = () => simulator.requests.filter((request) => request.path.endsWith('/chat/completions')).length;

/** Stores happen after the answer: wait until the exact layer hits `content`. */
async function stored(content: string, key = masterKey): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const probe = await chat(content, key, { 'x-cache-type': 'exact', 'cache-control': 'max-age=3600' });
    if (probe.headers.get('x-cache') === 'HIT (exact)') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`'${content}' was never stored`);
}

describe('cache hits pass authentication and rate limits', () => {
  it('counts hits against the key’s requests per minute: past the limit a hit is refused with 429', async () => {
    const created = await admin<{ key: string; id: string }>('POST', '/keys', { name: 'limited', rate_limits: { requests_per_minute: 4 } });
    expect(created.status).toBe(201);
    const secret = created.body.key;
    const first = await chat('limited hits', secret, { 'x-cache-type': 'exact' });
    expect(first.headers.get('x-cache')).toBe('MISS');
    expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('3');
    // Wait for the entry without spending the key's requests (the master key has its own tenant, so poll the store's counter).
    await expect
      .poll(async () => (await admin<{ process: { stored: number } }>('GET', '/cache/overview')).body.process.stored, { timeout: 5000 })
      .toBeGreaterThan(0);
    const before = upstreamChats();
    const hits = [];
    for (let index = 0; index < 3; index++) hits.push(await chat('limited hits', secret, { 'x-cache-type': 'exact' }));
    expect(hits.map((hit) => hit.headers.get('x-cache'))).toEqual(['HIT (exact)', 'HIT (exact)', 'HIT (exact)']);
    expect(hits.map((hit) => hit.headers.get('x-ratelimit-remaining-requests'))).toEqual(['2', '1', '0']);
    const refused = await chat('limited hits', secret, { 'x-cache-type': 'exact' });
    expect(refused.status).toBe(429);
    expect(refused.body.error?.code).toBe('rate_limit_exceeded');
    expect(refused.headers.get('x-cache')).toBeNull();
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(upstreamChats()).toBe(before);
  });

  it('never serves a hit to a revoked key', async () => {
    const created = await admin<{ key: string; id: string }>('POST', '/keys', { name: 'revoked soon' });
    const secret = created.body.key;
    expect((await chat('revoked hits', secret)).status).toBe(200);
    await stored('revoked hits', secret);
    expect((await admin('DELETE', `/keys/${created.body.id}`)).status).toBe(200);
    const refused = await chat('revoked hits', secret);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-cache')).toBeNull();
  });
});

describe('the Gemini API is cached', () => {
  it('generateContent, streamGenerateContent and embedContent hit through @google/genai', async () => {
    const ai = new GoogleGenAI({ apiKey: masterKey, httpOptions: { baseUrl: running.url } });
    const contents = 'Gemini through the cache, please';
    const first = await ai.models.generateContent({ model: 'gpt-4o-mini', contents });
    expect(first.sdkHttpResponse?.headers?.['x-cache']).toBe('MISS');
    await expect
      .poll(async () => (await ai.models.generateContent({ model: 'gpt-4o-mini', contents })).sdkHttpResponse?.headers?.['x-cache'], {
        timeout: 5000,
      })
      .toBe('HIT (exact)');
    const before = upstreamChats();
    const hit = await ai.models.generateContent({ model: 'gpt-4o-mini', contents });
    expect(hit.text).toBe(first.text);
    expect(hit.usageMetadata).toEqual(first.usageMetadata);
    // A stream request is answered from the JSON entry, with the same text.
    let streamed = '';
    let streamCache: string | undefined;
    for await (const chunk of await ai.models.generateContentStream({ model: 'gpt-4o-mini', contents })) {
      streamCache ??= chunk.sdkHttpResponse?.headers?.['x-cache'];
      streamed += chunk.text ?? '';
    }
    expect(streamCache).toBe('HIT (exact)');
    expect(streamed).toBe(first.text);
    expect(upstreamChats()).toBe(before);

    const embedded = await ai.models.embedContent({ model: 'text-embedding-3-small', contents: 'embed me for Gemini' });
    expect(embedded.sdkHttpResponse?.headers?.['x-cache']).toBe('MISS');
    await expect
      .poll(
        async () =>
          (await ai.models.embedContent({ model: 'text-embedding-3-small', contents: 'embed me for Gemini' })).sdkHttpResponse?.headers?.[
            'x-cache'
          ],
        { timeout: 5000 },
      )
      .toBe('HIT (exact)');
    const again = await ai.models.embedContent({ model: 'text-embedding-3-small', contents: 'embed me for Gemini' });
    expect(again.embeddings?.[0]?.values).toEqual(embedded.embeddings?.[0]?.values);
  });

  it('answers a similar Gemini prompt from the semantic layer', async () => {
    const ai = new GoogleGenAI({ apiKey: masterKey, httpOptions: { baseUrl: running.url } });
    await ai.models.generateContent({ model: 'gpt-4o-mini', contents: 'Explain the rainbow colours' });
    await stored('Explain the rainbow colours');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const similar = await ai.models.generateContent({ model: 'gpt-4o-mini', contents: 'explain the rainbow colours please' });
    expect(similar.sdkHttpResponse?.headers?.['x-cache']).toBe('HIT (semantic)');
    expect(Number(similar.sdkHttpResponse?.headers?.['x-cache-similarity'])).toBeGreaterThanOrEqual(0.92);
  });
});

describe('metrics and the embedder’s usage', () => {
  const metric = (text: string, name: string, labels: string) => {
    const line = text
      .split('\n')
      .find((candidate) => candidate.startsWith(`${name}{${labels}}`) || (labels === '' && candidate.startsWith(`${name} `)));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  };

  it('counts hits, misses, bypasses, stores and evictions in modelgate_cache_* with bounded labels', async () => {
    const scrape = async () => (await fetch(`${running.url}/metrics`, { headers: { authorization: `Bearer ${masterKey}` } })).text();
    const before = await scrape();
    await chat('metrics one');
    await stored('metrics one');
    await chat('metrics one', masterKey, { 'cache-control': 'no-store' });
    // Past RESPONSE_CACHE_MAX_ENTRIES (20) distinct entries, the least recently used are evicted.
    for (let index = 0; index < 22; index++)
      await chat(`metrics eviction ${index} ${'x'.repeat(index)}`, masterKey, { 'x-cache-type': 'exact' });
    await expect
      .poll(async () => metric(await scrape(), 'modelgate_cache_evictions_total', ''), { timeout: 5000 })
      .toBeGreaterThan(metric(before, 'modelgate_cache_evictions_total', ''));
    const after = await scrape();
    const delta = (labels: string, name = 'modelgate_cache_requests_total') => metric(after, name, labels) - metric(before, name, labels);
    expect(delta('endpoint="chat.completions",result="hit_exact"')).toBeGreaterThanOrEqual(1);
    expect(delta('endpoint="chat.completions",result="miss"')).toBeGreaterThanOrEqual(23);
    expect(delta('endpoint="chat.completions",result="bypass"')).toBeGreaterThanOrEqual(1);
    expect(delta('endpoint="chat.completions"', 'modelgate_cache_stores_total')).toBeGreaterThanOrEqual(23);
    // Labels come from fixed lists only: no prompt text, no model name a client made up.
    const series = after.split('\n').filter((line) => line.startsWith('modelgate_cache_'));
    for (const line of series)
      expect(line).toMatch(
        /^modelgate_cache_[a-z_]+(\{(endpoint|result|operation)="[a-z._]+"(,(endpoint|result|operation)="[a-z._]+")*\})? \d+(\.\d+)?$/,
      );
    expect(after).not.toContain('metrics eviction');
  });

  it('records each embedding call of the semantic layer as a priced usage row marked embedder, with the caller’s request id and key', async () => {
    const created = await admin<{ key: string; id: string }>('POST', '/keys', { name: 'embedder cost' });
    const answer = await chat('What does the embedder cost', created.body.key);
    expect(answer.status).toBe(200);
    const requestId = answer.headers.get('x-request-id');
    expect(requestId).toBeTruthy();
    type Row = {
      request_id: string;
      endpoint: string;
      cache_status: string;
      cost_usd: number | null;
      key_id: string | null;
      model: string;
      input_tokens: number;
    };
    let rows: Row[] = [];
    await expect
      .poll(
        async () => {
          const listed = await admin<{ data: Row[] }>('GET', `/usage/log?key_id=${created.body.id}&limit=50`);
          rows = (listed.body.data ?? []).filter((row) => row.request_id === requestId);
          return rows.length;
        },
        { timeout: 10_000, interval: 100 },
      )
      .toBe(2);
    const embedder = rows.find((row) => row.cache_status === 'embedder');
    const call = rows.find((row) => row.cache_status !== 'embedder');
    expect(call?.cache_status).toBe('miss');
    expect(embedder?.endpoint).toBe('embeddings');
    expect(embedder?.model).toBe('sim-semantic-embed');
    expect(embedder?.key_id).toBe(created.body.id);
    expect(embedder?.input_tokens).toBeGreaterThan(0);
    expect(embedder?.cost_usd).toBeCloseTo(((embedder?.input_tokens ?? 0) * 20) / 1_000_000, 12);
    const overview = await admin<{ totals: { embedder_requests: number; embedder_cost_usd: number } }>('GET', '/cache/overview');
    expect(overview.body.totals.embedder_requests).toBeGreaterThan(0);
    expect(overview.body.totals.embedder_cost_usd).toBeGreaterThan(0);
  });
});
