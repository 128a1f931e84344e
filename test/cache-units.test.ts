/**
 * Units of the response cache: the key (every output-shaping parameter changes it, defaults and key
 * order do not), the request controls, and the embedded store (eviction at the entry and byte caps,
 * entries surviving a restart, expiry).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { readCacheConfig } from '../src/cache/cache-config.ts';
import { readCacheControls } from '../src/cache/cache-controls.ts';
import { type CacheEntry, decodeEntry, encodeEntry, entryResult, entrySize } from '../src/cache/cache-entry.ts';
import { cacheSchemaVersion, canonicalJson, canonicalRequest, exactCacheKey, exactCacheKeyText } from '../src/cache/cache-key.ts';
import { createEmbeddedCacheStore } from '../src/cache/embedded-cache-store.ts';
import type { JsonResult } from '../src/providers/types.ts';

const directory = mkdtempSync(join(tmpdir(), 'modelgate-cache-units-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const base = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
const key = (body: Record<string, unknown>, overrides: Partial<Parameters<typeof exactCacheKey>[0]> = {}) =>
  exactCacheKey({ endpoint: 'chat.completions', target: 'openai/gpt-4o-mini', tenant: 'key_a', body, ...overrides });

describe('cache key', () => {
  it('ignores key order, stream flags and documented defaults', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: [1, { f: 1, e: 2 }] } })).toBe('{"a":{"c":[1,{"e":2,"f":1}],"d":2},"b":1}');
    // Undefined members are left out, undefined array items are null (as JSON.stringify does); the input is not changed.
    const input = { z: [undefined, { y: 1, x: undefined }], a: 'q' };
    expect(canonicalJson(input)).toBe('{"a":"q","z":[null,{"y":1}]}');
    expect(Object.keys(input)).toEqual(['z', 'a']);
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson('text')).toBe('"text"');
    const reference = key(base);
    expect(key({ messages: base.messages, model: 'other-name' })).toBe(reference);
    expect(key({ ...base, stream: true, stream_options: { include_usage: true } })).toBe(reference);
    expect(
      key({ ...base, n: 1, temperature: 1, top_p: 1, presence_penalty: 0, frequency_penalty: 0, logprobs: false, user: undefined }),
    ).toBe(reference);
    expect(key({ ...base, temperature: null })).toBe(reference);
  });

  it('hashes the canonical JSON of endpoint, policy, request, target, tenant and version (entries keep their keys)', () => {
    const bodies: Record<string, unknown>[] = [
      base,
      { ...base, temperature: 0.2, n: 1, stream: true, tools: [{ type: 'function', function: { parameters: { b: 1, a: 2 }, name: 'f' } }] },
      { z: 1, '10': 'ten', '9': 'nine', messages: [{ content: [{ type: 'text', text: 'é "quoted" \n' }], role: 'user' }], model: 'm' },
      { input: ['a', 'b'], encoding_format: 'float', dimensions: 8 },
    ];
    for (const [index, body] of bodies.entries()) {
      const endpoint = index === 3 ? 'embeddings' : 'chat.completions';
      const parts = {
        endpoint,
        target: 'openai/gpt-4o-mini',
        tenant: 'key_"a"',
        body,
        policyVersion: index === 1 ? 'wf-1' : null,
      } as const;
      const reference = canonicalJson({
        v: cacheSchemaVersion,
        endpoint,
        target: parts.target,
        tenant: parts.tenant,
        policy: parts.policyVersion,
        request: canonicalRequest(endpoint, body),
      });
      expect(exactCacheKeyText(parts)).toBe(reference);
      expect(JSON.parse(exactCacheKeyText(parts))).toEqual(JSON.parse(reference));
    }
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
      {
        messages: [
          { role: 'system', content: 'be terse' },
          { role: 'user', content: 'hi' },
        ],
      },
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
    expect(readCacheConfig({}, 'data/modelgate.db')).toMatchObject({
      exactEnabled: false,
      ttlSeconds: 3600,
      scope: 'key',
      sqlitePath: 'data/modelgate-cache.db',
    });
    expect(() => readCacheConfig({ RESPONSE_CACHE_TTL: '0' }, ':memory:')).toThrow(/RESPONSE_CACHE_TTL/);
    expect(() => readCacheConfig({ RESPONSE_CACHE_SIMPLE_ENABLED: 'maybe' }, ':memory:')).toThrow(/RESPONSE_CACHE_SIMPLE_ENABLED/);
    expect(() => readCacheConfig({ RESPONSE_CACHE_SCOPE: 'global' }, ':memory:')).toThrow(/RESPONSE_CACHE_SCOPE/);
  });
});

function entry(createdAt: number, ttlMs: number, text = 'x', requestedModel = 'gpt-4o-mini'): CacheEntry {
  return {
    v: 2,
    endpoint: 'chat.completions',
    tenant: 'key_a',
    requestedModel,
    provider: 'openai',
    model: 'gpt-4o-mini',
    operation: 'chat',
    createdAt,
    expiresAt: createdAt + ttlMs,
    usage: null,
    jsonText: JSON.stringify({ text }),
  };
}

describe('cache entries', () => {
  it('store a JSON answer as its text after the entry and read it back as it was', () => {
    const answer = '{\n  "id": "x",\n  "text": "two\\nlines"\n}';
    const stored = { ...entry(Date.now(), 60_000), jsonText: answer };
    const text = encodeEntry(stored);
    expect(text.endsWith(`\n${answer}`)).toBe(true);
    expect(decodeEntry(text)).toEqual(stored);
    const streamed = { ...entry(Date.now(), 60_000), chunks: [{ d: '{"a":"\\n"}' }] };
    delete streamed.jsonText;
    expect(decodeEntry(encodeEntry(streamed))).toEqual(streamed);
    expect(decodeEntry(JSON.stringify({ ...stored, v: 1 }))).toBeNull();
    expect(decodeEntry('not json\n{}')).toBeNull();
  });

  it('answers a JSON request with the stored text as it is, and parses it only when the body is read', () => {
    const stored = { ...entry(Date.now(), 60_000), jsonText: '{"id":"x",  "kept":"as sent"}' };
    const result = entryResult(stored, false, false);
    if (result?.kind !== 'json') throw new Error('expected a JSON result');
    expect(result.rawBody).toBe('{"id":"x",  "kept":"as sent"}');
    expect(result.body).toEqual({ id: 'x', kept: 'as sent' });
    expect({ ...result }.body).toEqual({ id: 'x', kept: 'as sent' });
    // A stage that replaces the body must not send the stored bytes.
    result.body = { id: 'rewritten' };
    expect(result.rawBody).toBeUndefined();
    expect(result.body).toEqual({ id: 'rewritten' });
    // Each hit parses its own copy: the rewrite above did not reach the entry.
    expect((entryResult(stored, false, false) as JsonResult).body).toEqual({ id: 'x', kept: 'as sent' });
  });
});

describe('embedded cache store', () => {
  it('evicts the least recently used entry at the entry cap, and at the byte cap', async () => {
    const store = createEmbeddedCacheStore({ sqlitePath: ':memory:', maxEntries: 3, maxBytes: 1_000_000 });
    const now = Date.now();
    for (const name of ['a', 'b', 'c']) await store.set(name, entry(now, 60_000), entrySize(entry(now, 60_000)));
    await store.get('a');
    await store.set('d', entry(now, 60_000), entrySize(entry(now, 60_000)));
    expect(await store.get('b')).toBeUndefined();
    expect(await store.get('a')).toBeDefined();
    expect(store.stats().entries).toBe(3);

    const small = createEmbeddedCacheStore({ sqlitePath: ':memory:', maxEntries: 100, maxBytes: 1000 });
    const big = entry(now, 60_000, 'y'.repeat(300));
    for (const name of ['p', 'q', 'r', 's']) await small.set(name, big, entrySize(big));
    expect(await small.get('p')).toBeUndefined();
    expect(small.stats().bytes).toBeLessThanOrEqual(1000);
    await store.close();
    await small.close();
  });

  it('keeps entries across a restart, drops expired ones, purges by model', async () => {
    const sqlitePath = join(directory, 'cache.db');
    let now = Date.now();
    const first = createEmbeddedCacheStore({ sqlitePath, maxEntries: 10, maxBytes: 1_000_000, now: () => now });
    await first.set('kept', entry(now, 60_000), entrySize(entry(now, 60_000)));
    await first.set('short', entry(now, 1000), entrySize(entry(now, 1000)));
    await first.set('other', entry(now, 60_000, 'z', 'gpt-4o'), entrySize(entry(now, 60_000, 'z', 'gpt-4o')));
    await first.close();
    now += 2000;
    const second = createEmbeddedCacheStore({ sqlitePath, maxEntries: 10, maxBytes: 1_000_000, now: () => now });
    expect((await second.get('kept'))?.jsonText).toBe('{"text":"x"}');
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

  it('writes an entry to SQLite at its first hit or at close, so a crash loses only entries never served', async () => {
    const sqlitePath = join(directory, 'first-hit.db');
    const now = Date.now();
    const sqlite = new BetterSqlite3(sqlitePath);
    const first = createEmbeddedCacheStore({ sqlitePath, maxEntries: 10, maxBytes: 1_000_000, flushMs: 5 });
    const rows = () => (sqlite.prepare('select key from cache_entry order by key').all() as { key: string }[]).map((row) => row.key);
    await first.set('served', entry(now, 60_000), entrySize(entry(now, 60_000)));
    await first.set('never', entry(now, 60_000), entrySize(entry(now, 60_000)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Stored, not yet served: nothing written (the miss paid no SQLite write).
    expect(rows()).toEqual([]);
    expect(await first.get('served')).toBeDefined();
    await expect.poll(rows, { timeout: 2000, interval: 5 }).toEqual(['served']);
    // A second hit writes nothing more; a replacement drops the served row until it is served itself.
    expect(await first.get('served')).toBeDefined();
    await first.set('served', entry(now + 1, 60_000), entrySize(entry(now + 1, 60_000)));
    await expect.poll(rows, { timeout: 2000, interval: 5 }).toEqual([]);
    expect((await first.get('served'))?.createdAt).toBe(now + 1);
    await expect.poll(rows, { timeout: 2000, interval: 5 }).toEqual(['served']);
    // A process that dies now (no close): a new store over the same file finds the served entry only.
    const afterCrash = createEmbeddedCacheStore({ sqlitePath, maxEntries: 10, maxBytes: 1_000_000 });
    expect((await afterCrash.get('served'))?.createdAt).toBe(now + 1);
    expect(await afterCrash.get('never')).toBeUndefined();
    await afterCrash.close();
    // A clean stop writes what was never served too.
    await first.close();
    expect(rows()).toEqual(['never', 'served']);
    sqlite.close();
  });

  it('writes to SQLite after the hit (queued, in order), and drops rows of an older entry layout at start', async () => {
    const sqlitePath = join(directory, 'queued.db');
    const now = Date.now();
    const first = createEmbeddedCacheStore({ sqlitePath, maxEntries: 10, maxBytes: 1_000_000 });
    const sqlite = new BetterSqlite3(sqlitePath);
    const rows = () => (sqlite.prepare('select key from cache_entry order by key').all() as { key: string }[]).map((row) => row.key);
    await first.set('a', entry(now, 60_000), entrySize(entry(now, 60_000)));
    await first.set('b', entry(now, 60_000), entrySize(entry(now, 60_000)));
    await first.delete('a');
    expect(await first.get('b')).toBeDefined();
    expect(rows()).toEqual([]);
    await expect.poll(rows, { timeout: 2000, interval: 10 }).toEqual(['b']);
    // Still queued at close: written then.
    await first.set('c', entry(now, 60_000), entrySize(entry(now, 60_000)));
    await first.close();
    expect(rows()).toEqual(['b', 'c']);
    const old = { ...entry(now, 60_000), v: 1, json: { text: 'x' } };
    sqlite
      .prepare('insert into cache_entry (key, tenant, requested_model, value, size, created_at, expires_at) values (?, ?, ?, ?, ?, ?, ?)')
      .run('old', 'key_a', 'gpt-4o-mini', JSON.stringify(old), 100, now, now + 60_000);
    const second = createEmbeddedCacheStore({ sqlitePath, maxEntries: 10, maxBytes: 1_000_000 });
    expect(await second.get('old')).toBeUndefined();
    expect(await second.get('c')).toBeDefined();
    expect(rows()).toEqual(['b', 'c']);
    await second.close();
    sqlite.close();
  });
});
