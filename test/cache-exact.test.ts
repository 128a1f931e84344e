/**
 * The exact response cache (src/cache/) end to end: a real gateway with the embedded store (memory +
 * SQLite in a temporary directory) over the OpenAI simulator, through the official openai and
 * @anthropic-ai/sdk clients. Counting the simulator's requests tells a hit (no upstream call) from a miss.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheGatewayEnv } from './helpers/cache-gateway-env.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'mg-cache-master';
let directory: string;
let simulator: Simulator;
let running: RunningGateway;
let client: OpenAI;

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { ...cacheGatewayEnv({ directory, upstreamUrl: simulator.baseUrl, upstreamKey: 'sk-cache-upstream', masterKey }), ...extra };
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}, key = masterKey) {
  const response = await fetch(`${running.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The `data:` payloads of an SSE body, parsed (the [DONE] marker left out). */
function events(text: string): unknown[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]')
    .map((line) => JSON.parse(line.slice(6)));
}

interface Overview {
  enabled: unknown;
  purged: number | null;
  totals: { hits: number; saved_cost_usd: number; saved_tokens: number } | null;
  store: { entries: number };
  daily: unknown[];
}

const upstreamCalls = () => simulator.requests.filter((request) => request.method === 'POST').length;
let counter = 0;
const unique = (text: string) => `${text} ${++counter}`;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'modelgate-cache-'));
  simulator = await startOpenAISimulator({ apiKey: 'sk-cache-upstream' });
  running = await startGateway(env());
  client = new OpenAI({ apiKey: masterKey, baseURL: `${running.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await running?.close();
  await simulator?.close();
  if (directory) rmSync(directory, { recursive: true, force: true });
});

describe('exact cache', () => {
  it('answers a repeated chat request from the cache (openai SDK), with X-Cache and Age', async () => {
    const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: unique('cache me') }] };
    const first = await client.chat.completions.create(request).withResponse();
    expect(first.response.headers.get('x-cache')).toBe('MISS');
    const before = upstreamCalls();
    const second = await client.chat.completions.create(request).withResponse();
    expect(second.response.headers.get('x-cache')).toBe('HIT (exact)');
    expect(Number(second.response.headers.get('age'))).toBeGreaterThanOrEqual(0);
    expect(upstreamCalls()).toBe(before);
    expect(second.data).toEqual(first.data);
    // `openai/gpt-4o-mini` resolves to the same target: same entry.
    const prefixed = await client.chat.completions.create({ ...request, model: 'openai/gpt-4o-mini' }).withResponse();
    expect(prefixed.response.headers.get('x-cache')).toBe('HIT (exact)');
  });

  it('answers a JSON hit with the bytes the upstream sent, also after a restart', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: unique('same bytes') }] };
    const first = await post('/v1/chat/completions', body);
    expect(first.headers.get('x-cache')).toBe('MISS');
    const second = await post('/v1/chat/completions', body);
    expect(second.headers.get('x-cache')).toBe('HIT (exact)');
    expect(second.text).toBe(first.text);
    await running.close();
    running = await startGateway(env());
    client = new OpenAI({ apiKey: masterKey, baseURL: `${running.url}/v1`, maxRetries: 0 });
    const third = await post('/v1/chat/completions', body);
    expect(third.headers.get('x-cache')).toBe('HIT (exact)');
    expect(third.text).toBe(first.text);
  });

  it('replays a stored stream with the same events, tool calls included, and answers JSON from it', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } },
    ];
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: unique('Weather?') }], tools, stream: true };
    const first = await post('/v1/chat/completions', body);
    expect(first.headers.get('x-cache')).toBe('MISS');
    const before = upstreamCalls();
    const second = await post('/v1/chat/completions', body);
    expect(second.headers.get('x-cache')).toBe('HIT (exact)');
    expect(events(second.text)).toEqual(events(first.text));
    expect(second.text.trimEnd().endsWith('data: [DONE]')).toBe(true);

    const json = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: body.messages as OpenAI.ChatCompletionMessageParam[], tools })
      .withResponse();
    expect(json.response.headers.get('x-cache')).toBe('HIT (exact)');
    expect(upstreamCalls()).toBe(before);
    const call = json.data.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ location: 'Paris' });
    expect(json.data.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('answers a stream from a JSON entry, and sends the usage chunk only when asked', async () => {
    const messages = [{ role: 'user' as const, content: unique('one two three') }];
    const stored = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    const before = upstreamCalls();
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
    let text = '';
    let usageChunks = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usageChunks++;
    }
    expect(text).toBe(stored.choices[0]?.message.content);
    expect(usageChunks).toBe(0);
    const withUsage = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of withUsage) if (chunk.usage) usage = chunk.usage;
    expect(usage).toEqual(stored.usage);
    expect(upstreamCalls()).toBe(before);
  });

  it('replays Anthropic Messages streams and JSON through @anthropic-ai/sdk', async () => {
    const anthropic = new Anthropic({ apiKey: masterKey, baseURL: running.url, maxRetries: 0 });
    const request = { model: 'gpt-4o-mini', max_tokens: 64, messages: [{ role: 'user' as const, content: unique('hello claude') }] };
    const first = await post('/v1/messages', { ...request, stream: true });
    const before = upstreamCalls();
    const second = await post('/v1/messages', { ...request, stream: true });
    expect(second.headers.get('x-cache')).toBe('HIT (exact)');
    const strip = (list: unknown[]) => JSON.stringify(list).replace(/"msg_[^"]+"/g, '"msg"');
    expect(strip(events(second.text))).toBe(strip(events(first.text)));
    const message = await anthropic.messages.create(request).withResponse();
    expect(message.response.headers.get('x-cache')).toBe('HIT (exact)');
    expect(message.data.content[0]?.type === 'text' && message.data.content[0].text).toContain('hello claude');
    expect(upstreamCalls()).toBe(before);
  });

  it('caches Responses and embeddings', async () => {
    const input = unique('respond');
    const first = await client.responses.create({ model: 'gpt-4o-mini', input }).withResponse();
    expect(first.response.headers.get('x-cache')).toBe('MISS');
    const before = upstreamCalls();
    const second = await client.responses.create({ model: 'gpt-4o-mini', input }).withResponse();
    expect(second.response.headers.get('x-cache')).toBe('HIT (exact)');
    expect(second.data.output_text).toBe(first.data.output_text);
    const embeddingInput = unique('embed');
    const e1 = await client.embeddings.create({ model: 'text-embedding-3-small', input: embeddingInput }).withResponse();
    expect(e1.response.headers.get('x-cache')).toBe('MISS');
    const e2 = await client.embeddings.create({ model: 'text-embedding-3-small', input: embeddingInput }).withResponse();
    expect(e2.response.headers.get('x-cache')).toBe('HIT (exact)');
    expect(e2.data.data[0]?.embedding).toEqual(e1.data.data[0]?.embedding);
    expect(upstreamCalls()).toBe(before + 1);
  });

  it('never stores errors or cut streams', async () => {
    simulator.script('gpt-4o-mini', ['server-error']);
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: unique('fail once') }] };
    expect((await post('/v1/chat/completions', body)).status).toBeGreaterThanOrEqual(500);
    const retried = await post('/v1/chat/completions', body);
    expect(retried.status).toBe(200);
    expect(retried.headers.get('x-cache')).toBe('MISS');

    simulator.script('gpt-4o-mini', ['cut-after-content']);
    const streamBody = { ...body, messages: [{ role: 'user', content: unique('cut me') }], stream: true };
    const cut = await post('/v1/chat/completions', streamBody);
    expect(cut.text).toContain('error');
    const again = await post('/v1/chat/completions', streamBody);
    expect(again.headers.get('x-cache')).toBe('MISS');
    expect(again.text).toContain('[DONE]');
  });

  it('honours no-cache, no-store, max-age and X-Cache-TTL', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: unique('controls') }] };
    const noStore = await post('/v1/chat/completions', body, { 'cache-control': 'no-store' });
    expect(noStore.headers.get('x-cache')).toBe('BYPASS');
    expect((await post('/v1/chat/completions', body, { 'cache-control': 'no-cache' })).headers.get('x-cache')).toBe('BYPASS');
    // no-cache stored its answer: the next plain request hits.
    expect((await post('/v1/chat/completions', body)).headers.get('x-cache')).toBe('HIT (exact)');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await post('/v1/chat/completions', body, { 'cache-control': 'max-age=0' })).headers.get('x-cache')).toBe('MISS');
    expect((await post('/v1/chat/completions', body, { 'cache-control': 'max-age=60' })).headers.get('x-cache')).toBe('HIT (exact)');

    const short = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: unique('short ttl') }] };
    await post('/v1/chat/completions', short, { 'x-cache-ttl': '1' });
    expect((await post('/v1/chat/completions', short)).headers.get('x-cache')).toBe('HIT (exact)');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await post('/v1/chat/completions', short)).headers.get('x-cache')).toBe('MISS');

    const bad = await post('/v1/chat/completions', short, { 'x-cache-ttl': 'forever' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).error.code).toBe('invalid_cache_ttl');
    expect((await post('/v1/chat/completions', short, { 'x-cache-type': 'semantic' })).headers.get('x-cache')).toBe('BYPASS');
  });

  it("never serves key A's entry to key B (managed keys)", async () => {
    const created = async () => {
      const response = await fetch(`${running.url}/admin/api/v1/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'cache tenant' }),
      });
      expect(response.status).toBe(201);
      return ((await response.json()) as { key: string }).key;
    };
    const keyA = await created();
    const keyB = await created();
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: unique('tenant') }] };
    expect((await post('/v1/chat/completions', body, {}, keyA)).headers.get('x-cache')).toBe('MISS');
    expect((await post('/v1/chat/completions', body, {}, keyA)).headers.get('x-cache')).toBe('HIT (exact)');
    expect((await post('/v1/chat/completions', body, {}, keyB)).headers.get('x-cache')).toBe('MISS');
  });

  it('records hits at cost 0 with the cost saved, and reports them in the overview; purges', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: unique('account me') }] };
    await post('/v1/chat/completions', body);
    await post('/v1/chat/completions', body);
    const admin = async (method: string, path: string) => {
      const response = await fetch(`${running.url}/admin/api/v1${path}`, { method, headers: { authorization: `Bearer ${masterKey}` } });
      return { status: response.status, body: (await response.json()) as Overview };
    };
    let overview = await admin('GET', '/cache/overview');
    for (let attempt = 0; attempt < 50 && !((overview.body.totals?.hits ?? 0) > 0); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      overview = await admin('GET', '/cache/overview');
    }
    expect(overview.status).toBe(200);
    expect(overview.body.enabled).toEqual({ exact: true, semantic: false });
    expect(overview.body.totals?.hits).toBeGreaterThan(0);
    expect(overview.body.totals?.saved_cost_usd).toBeGreaterThan(0);
    expect(overview.body.totals?.saved_tokens).toBeGreaterThan(0);
    expect(overview.body.store.entries).toBeGreaterThan(0);
    expect(overview.body.daily.length).toBeGreaterThan(0);

    const purged = await admin('DELETE', '/cache?model=gpt-4o-mini');
    expect(purged.body.purged).toBeGreaterThan(0);
    expect((await post('/v1/chat/completions', body)).headers.get('x-cache')).toBe('MISS');
    expect((await admin('DELETE', '/cache')).status).toBe(200);
    expect((await admin('DELETE', '/cache/entries/not-a-key')).status).toBe(400);
    expect((await admin('DELETE', `/cache/entries/${'0'.repeat(64)}`)).status).toBe(404);

    const document = (await (await fetch(`${running.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(document.paths['/admin/api/v1/cache/overview']).toBeDefined();
    expect(document.paths['/admin/api/v1/cache/entries/{key}']).toBeDefined();
  });
});
