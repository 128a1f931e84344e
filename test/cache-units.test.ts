/**
 * Units of the response cache: the key (every output-shaping parameter changes it, defaults and key
 * order do not), the request controls, and the embedded store (eviction at the entry and byte caps,
 * entries surviving a restart, expiry).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCacheConfig } from '../src/cache/cache-config.ts';
import { readCacheControls } from '../src/cache/cache-controls.ts';
import type { CacheEntry } from '../src/cache/cache-entry.ts';
import { canonicalJson, exactCacheKey } from '../src/cache/cache-key.ts';
import { createEmbeddedCacheStore } from '../src/cache/embedded-cache-store.ts';

const directory = mkdtempSync(join(tmpdir(), 'modelgate-cache-units-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const base = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
const key = (body: Record<string, unknown>, overrides: Partial<Parameters<typeof exactCacheKey>[0]> = {}) =>
  exactCacheKey({ endpoint: 'chat.completions', target: 'openai/gpt-4o-mini', tenant: 'key_a', body, ...overrides });

describe('cache key', () => {
  it('ignores key order, stream flags and documented defaults', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: [1, { f: 1, e: 2 }] } })).toBe('{"a":{"c":[1,{"e":2,"f":1}],"d":2},"b":1}');
    const reference = key(base);
    expect(key({ messages: base.messages, model: 'other-name' })).toBe(reference);
    expect(key({ ...base, stream: true, stream_options: { include_usage: true } })).toBe(reference);
    expect(key({ ...base, n: 1, temperature: 1, top_p: 1, presence_penalty: 0, frequency_penalty: 0, logprobs: false, user: undefined })).toBe(reference);
    expect(key({ ...base, temperature: null })).toBe(reference);
  });

  it('changes with every output-shaping parameter, the endpoint, the target and the tenant', () => {
    const reference = key(base);
    const variants: Record<string, unknown>[] = [
      { temperature: 0 },
      { temperature: 0.7 },
      { top_p: 0.5 },
      { n: 2 },
      { max_tokens: 5 },
      { max_completion_tokens: 5 },
      { stop: ['\n'] },
      { seed: 42 },
      { presence_penalty: 1 },
      { frequency_penalty: 1 },
      { logit_bias: { '50256': -100 } },
      { logprobs: true },
      { top_logprobs: 2 },
      { response_format: { type: 'json_object' } },
      { tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] },
      { tool_choice: 'none' },
      { parallel_tool_calls: false },
      { reasoning_effort: 'high' },
      { modalities: ['text', 'audio'] },
      { audio: { voice: 'alloy', format: 'wav' } },
      { prediction: { type: 'content', content: 'x' } },
      { service_tier: 'flex' },
      { verbosity: 'low' },
      { web_search_options: {} },
      { some_unknown_provider_field: 1 },
      { messages: [{ role: 'user', content: 'hi!' }] },
      { messages: [{ role: 'system', content: 'be terse' }, { role: 'user', content: 'hi' }] },
    ];
    const keys = new Set([reference]);
    for (const variant of variants) {
      const variantKey = key({ ...base, ...variant });
      expect(variantKey, JSON.stringify(variant)).not.toBe(reference);
      keys.add(variantKey);
    }
    expect(keys.size).toBe(variants.length + 1);
    expect(key(base, { endpoint: 'messages' })).not.toBe(reference);
    expect(key(base, { target: 'groq/gpt-4o-mini' })).not.toBe(reference);
    expect(key(base, { tenant: 'key_b' })).not.toBe(reference);
    expect(key(base, { policyVersion: 'guardrails-2' })).not.toBe(reference);
    expect(exactCacheKey({ endpoint: 'embeddings', target: 't', tenant: 'k', body: { input: 'x', encoding_format: 'base64' } })).not.toBe(
      exactCacheKey({ endpoint: 'embeddings', target: 't', tenant: 'k', body: { input: 'x' } }),
    );
  });
});

describe('cache controls and config', () => {
  it('reads Cache-Control, X-Cache-TTL and X-Cache-Type', () => {
    expect(readCacheControls({ 'cache-control': 'no-cache' })).toMatchObject({ lookup: false, store: true });
    expect(readCacheControls({ 'cache-control': 'No-Store' })).toMatchObject({ lookup: false, store: false });
    expect(readCacheControls({ 'cache-control': 'max-age=30, foo' })).toMatchObject({ lookup: true, maxAgeSeconds: 30 });
    expect(readCacheControls({ 'cache-control': 'max-age=abc' })).toMatchObject({ maxAgeSeconds: 0 });
    expect(readCacheControls({ 'x-cache-ttl': '90' }).ttlSeconds).toBe(90);
    expect(readCacheControls({ 'x-cache-type': 'exact' })).toMatchObject({ exact: true, semantic: false });
    expect(() => readCacheControls({ 'x-cache-ttl': '-1' })).toThrow(/X-Cache-TTL/);
    expect(() => readCacheControls({ 'x-cache-type': 'fuzzy' })).toThrow(/X-Cache-Type/);
  });

  it('defaults to off, 3600 s, per-key scope; refuses bad values by name', () => {
    expect(readCacheConfig({}, 'data/modelgate.db')).toMatchObject({ exactEnabled: false, ttlSeconds: 3600, scope: 'key', sqlitePath: 'data/modelgate-cache.db' });
    expect(() => readCacheConfig({ RESPONSE_CACHE_TTL: '0' }, ':memory:')).toThrow(/RESPONSE_CACHE_TTL/);
    expect(() => readCacheConfig({ RESPONSE_CACHE_SIMPLE_ENABLED: 'maybe' }, ':memory:')).toThrow(/RESPONSE_CACHE_SIMPLE_ENABLED/);
    expect(() => readCacheConfig({ RESPONSE_CACHE_SCOPE: 'global' }, ':memory:')).toThrow(/RESPONSE_CACHE_SCOPE/);
  });
});

function entry(createdAt: number, ttlMs: number, text = 'x', requestedModel = 'gpt-4o-mini'): CacheEntry {
  return {
    v: 1,
    endpoint: 'chat.completions',
    tenant: 'key_a',
    requestedModel,
    provider: 'openai',
    model: 'gpt-4o-mini',
    operation: 'chat',
    createdAt,
    expiresAt: createdAt + ttlMs,
    usage: null,
    json: { text },
  };
}

describe('embedded cache store', () => {
  it('evicts the least recently used entry at the entry cap, and at the byte cap', async () => {
    const store = createEmbeddedCacheStore({ sqlitePath: ':memory:', maxEntries: 3, maxBytes: 1_000_000 });
    const now = Date.now();
    for (const name of ['a', 'b', 'c']) await store.set(name, entry(now, 60_000), JSON.stringify(entry(now, 60_000)));
    await store.get('a');
    await store.set('d', entry(now, 60_000), JSON.stringify(entry(now, 60_000)));
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBeDefined();
    expect(store.stats().entries).toBe(3);

    const small = createEmbeddedCacheStore({ sqlitePath: ':memory:', maxEntries: 100, maxBytes: 1000 });
    const big = entry(now, 60_000, 'y'.repeat(300));
    for (const name of ['p', 'q', 'r', 's']) await small.set(name, big, JSON.stringify(big));
    expect(await small.get('p')).toBeUndefined();
    expect(small.stats().bytes).toBeLessThanOrEqual(1000);
    await store.close();
    await small.close();
  });

  it('keeps entries across a restart, drops expired ones, purges by model', async () => {
    const sqlitePath = join(directory, 'cache.db');
    let now = Date.now();
    const first = createEmbeddedCacheStore({ sqlitePath, maxEntries: 10, maxBytes: 1_000_000, now: () => now });
    await first.set('kept', entry(now, 60_000), JSON.stringify(entry(now, 60_000)));
    await first.set('short', entry(now, 1000), JSON.stringify(entry(now, 1000)));
    await first.set('other', entry(now, 60_000, 'z', 'gpt-4o'), JSON.stringify(entry(now, 60_000, 'z', 'gpt-4o')));
    await first.close();
    now += 2000;
    const second = createEmbeddedCacheStore({ sqlitePath, maxEntries: 10, maxBytes: 1_000_000, now: () => now });
    expect((await second.get('kept'))?.json).toEqual({ text: 'x' });
    expect(await second.get('short')).toBeUndefined();
    expect(await second.purge({ requestedModel: 'gpt-4o' })).toBe(1);
    expect(await second.get('other')).toBeUndefined();
    expect(await second.get('kept')).toBeDefined();
    await second.close();
    const third = createEmbeddedCacheStore({ sqlitePath, maxEntries: 10, maxBytes: 1_000_000, now: () => now });
    expect(await third.get('other')).toBeUndefined();
    expect(await third.purge()).toBe(1);
    await third.close();
  });
});
