/**
 * The Redis cache store (src/cache/shared-cache-store.ts) across two gateway processes (`node
 * src/main.ts`) sharing the real Redis (a key prefix unique to the run) and PostgreSQL (managed keys,
 * a schema unique to the run): an entry stored by one process is a hit on the other, JSON and streams
 * (the replayed events equal the original ones, parsed); purges through one process's admin API
 * (all, one tenant, one model, one entry) take effect on the other; an entry's TTL ends it on both;
 * key A's entry is never served to key B. Counting the simulator's requests tells a hit from a miss.
 * And on the store itself: a replica that never hears a purge message (pub/sub is at most once) stops
 * serving the purged entries once it re-reads the generations.
 */

import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entrySize } from '../src/cache/cache-entry.ts';
import { type ReplicaSet, startReplicaSet } from './helpers/replica-set.ts';
import { createStateBackend, deleteRedisPrefix, redisUrl, type StateBackend, uniqueRedisPrefix } from './helpers/state-backends.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'mg-cache-replicas-master';
let storage: StorageBackend;
let state: StateBackend;
let simulator: Simulator;
let replicas: ReplicaSet | undefined;
let first = '';
let second = '';

beforeAll(async () => {
  storage = createBackend('postgresql');
  state = createStateBackend('redis');
  simulator = await startOpenAISimulator({ apiKey: 'sk-cache-replicas' });
  const env = {
    ...storage.env,
    ...state.env,
    OPENAI_API_KEY: 'sk-cache-replicas',
    OPENAI_BASE_URL: simulator.baseUrl,
    MODELGATE_MASTER_KEY: masterKey,
    RESPONSE_CACHE_SIMPLE_ENABLED: 'true',
    RETRY_MAX_RETRIES: '0',
  };
  replicas = await startReplicaSet(env);
  [first = '', second = ''] = replicas.urls;
}, 150_000);

afterAll(async () => {
  await replicas?.stop();
  await simulator?.close();
  await state?.cleanup();
  await storage?.cleanup();
});

async function post(url: string, body: unknown, headers: Record<string, string> = {}, key = masterKey) {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, cache: response.headers.get('x-cache'), text: await response.text() };
}

async function admin(url: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${url}/admin/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The `data:` payloads of an SSE body, parsed (the [DONE] marker left out). */
function events(text: string): unknown[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]')
    .map((line) => JSON.parse(line.slice(6)));
}

const upstreamCalls = () => simulator.requests.filter((request) => request.method === 'POST').length;
let counter = 0;
const chatBody = (text: string, extra: Record<string, unknown> = {}) => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: `${text} ${++counter}` }],
  ...extra,
});

type ChatBody = ReturnType<typeof chatBody>;
const contentOf = (body: ChatBody) => body.messages[0]?.content as string;

/**
 * Sends `body` through the process at `url` (a miss) and waits until its entry is in Redis (entries
 * are written once the answer is complete, after it was sent), so a lookup elsewhere can only hit it.
 */
async function storeOn(url: string, body: ChatBody, key = masterKey, headers: Record<string, string> = {}) {
  const answer = await post(url, body, headers, key);
  expect(answer.status).toBe(200);
  expect(answer.cache).toBe('MISS');
  // The answer's id (the simulator makes one per answer) is in its entry, JSON or stream: counting all
  // entries instead would also see a purge probe's MISS of another body being stored meanwhile.
  const id = answerId(answer.text);
  await expect.poll(() => entriesHolding(id), { timeout: 10_000, interval: 25 }).toBe(1);
  return answer;
}

/** The completion id of a JSON answer or of a stream's first event. */
function answerId(text: string): string {
  const first = text.startsWith('data: ') ? events(text)[0] : JSON.parse(text);
  const id = (first as { id?: unknown }).id;
  if (typeof id !== 'string' || id === '') throw new Error(`no completion id in ${text.slice(0, 200)}`);
  return id;
}

async function cacheOn(url: string, body: unknown, key = masterKey): Promise<string | null> {
  return (await post(url, body, {}, key)).cache;
}

describe('Redis cache store across two gateway processes', { timeout: 90_000 }, () => {
  it('serves a JSON answer stored by one process from the other', async () => {
    const body = chatBody('shared json');
    const stored = await storeOn(first, body);
    const before = upstreamCalls();
    const hit = await post(second, body);
    expect(hit.cache).toBe('HIT (exact)');
    expect(JSON.parse(hit.text)).toEqual(JSON.parse(stored.text));
    expect(upstreamCalls()).toBe(before);
  });

  it('replays a stream stored by one process on the other with the same events, and answers JSON from it', async () => {
    const body = chatBody('shared stream', { stream: true, stream_options: { include_usage: true } });
    const stored = await storeOn(second, body);
    expect(stored.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    const before = upstreamCalls();
    const hit = await post(first, body);
    expect(hit.cache).toBe('HIT (exact)');
    expect(events(hit.text)).toEqual(events(stored.text));
    expect(events(hit.text).length).toBeGreaterThan(2);
    expect(hit.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    const json = await post(first, { ...body, stream: false, stream_options: undefined });
    expect(json.cache).toBe('HIT (exact)');
    const content = events(stored.text)
      .map((event) => (event as { choices: { delta?: { content?: string } }[] }).choices[0]?.delta?.content ?? '')
      .join('');
    expect((JSON.parse(json.text) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe(content);
    expect(upstreamCalls()).toBe(before);
  });

  it('purges through one process take effect on the other: all, one model, one tenant, one pair, one entry', async () => {
    const all = chatBody('purge all');
    await storeOn(first, all);
    expect(await cacheOn(second, all)).toBe('HIT (exact)');
    expect((await admin(first, 'DELETE', '/cache')).status).toBe(200);
    await expect.poll(() => cacheOn(second, all), { timeout: 10_000, interval: 100 }).toBe('MISS');

    // One requested model: the gpt-4o entry goes, the gpt-4o-mini one stays.
    const mini = chatBody('purge by model');
    const other = { ...chatBody('purge by model, other model'), model: 'gpt-4o' };
    await storeOn(first, mini);
    await storeOn(first, other);
    expect(await cacheOn(second, other)).toBe('HIT (exact)');
    expect((await admin(second, 'DELETE', '/cache?model=gpt-4o')).status).toBe(200);
    await expect.poll(() => cacheOn(first, other), { timeout: 10_000, interval: 100 }).toBe('MISS');
    expect(await cacheOn(first, mini)).toBe('HIT (exact)');

    // One tenant: key A's entries go, key B's stay.
    const keyA = await createKey();
    const keyB = await createKey();
    const forA = chatBody('purge by tenant');
    await storeOn(first, forA, keyA.secret);
    await storeOn(first, forA, keyB.secret);
    expect(await cacheOn(second, forA, keyA.secret)).toBe('HIT (exact)');
    expect((await admin(first, 'DELETE', `/cache?key_id=${keyA.id}`)).status).toBe(200);
    await expect.poll(() => cacheOn(second, forA, keyA.secret), { timeout: 10_000, interval: 100 }).toBe('MISS');
    expect(await cacheOn(second, forA, keyB.secret)).toBe('HIT (exact)');

    // One tenant's entries of one model: key B's gpt-4o entry goes; its gpt-4o-mini one and key A's gpt-4o one stay.
    const pairMini = chatBody('purge by tenant and model');
    const pairOther = { ...pairMini, model: 'gpt-4o' };
    await storeOn(first, pairMini, keyB.secret);
    await storeOn(first, pairOther, keyB.secret);
    await storeOn(first, pairOther, keyA.secret);
    expect(await cacheOn(second, pairOther, keyB.secret)).toBe('HIT (exact)');
    expect((await admin(first, 'DELETE', `/cache?key_id=${keyB.id}&model=gpt-4o`)).status).toBe(200);
    await expect.poll(() => cacheOn(second, pairOther, keyB.secret), { timeout: 10_000, interval: 100 }).toBe('MISS');
    expect(await cacheOn(second, pairMini, keyB.secret)).toBe('HIT (exact)');
    expect(await cacheOn(second, pairOther, keyA.secret)).toBe('HIT (exact)');

    // One entry by its key, through the other process.
    const one = chatBody('purge one entry');
    await storeOn(first, one);
    const entryKey = await findEntryKey(contentOf(one));
    expect((await admin(second, 'DELETE', `/cache/entries/${entryKey}`)).status).toBe(200);
    expect(await cacheOn(first, one)).toBe('MISS');
    expect((await admin(second, 'DELETE', `/cache/entries/${'0'.repeat(64)}`)).status).toBe(404);
  });

  it('ends an entry on both processes at its TTL, in Redis too', async () => {
    const body = chatBody('short ttl');
    // 3 s: long enough to see the hit on the other process on a loaded machine, short enough to wait for.
    await storeOn(first, body, masterKey, { 'x-cache-ttl': '3' });
    expect(await cacheOn(second, body)).toBe('HIT (exact)');
    const name = await findEntryName(contentOf(body));
    const ttl = await withRedis((client) => client.pTTL(name));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3000);
    // Redis drops the entry on its own (the TTL is Redis's, not only a check at lookup).
    await expect.poll(() => withRedis((client) => client.exists(name)), { timeout: 10_000, interval: 100 }).toBe(0);
    const before = upstreamCalls();
    expect((await post(second, body, { 'cache-control': 'no-store' })).cache).toBe('BYPASS');
    expect(await cacheOn(first, body)).toBe('MISS');
    expect(upstreamCalls()).toBe(before + 2);
  });

  it("never serves key A's entry to key B on either process", async () => {
    const keyA = await createKey();
    const keyB = await createKey();
    const body = chatBody('tenant scoped');
    const storedA = await storeOn(first, body, keyA.secret);
    expect(await cacheOn(second, body, keyA.secret)).toBe('HIT (exact)');
    // Key B misses on both processes (its own answer is stored by the first miss).
    const before = upstreamCalls();
    const storedB = await storeOn(second, body, keyB.secret);
    expect(await cacheOn(first, body, masterKey)).toBe('MISS');
    expect(upstreamCalls()).toBe(before + 2);
    expect(JSON.parse(storedB.text).id).not.toBe(JSON.parse(storedA.text).id);
    // Each key is now served its own entry on either process.
    const hitA = await post(second, body, {}, keyA.secret);
    const hitB = await post(first, body, {}, keyB.secret);
    expect([hitA.cache, hitB.cache]).toEqual(['HIT (exact)', 'HIT (exact)']);
    expect(JSON.parse(hitA.text)).toEqual(JSON.parse(storedA.text));
    expect(JSON.parse(hitB.text)).toEqual(JSON.parse(storedB.text));
  });
});

async function createKey(): Promise<{ id: string; secret: string }> {
  const created = await admin(first, 'POST', '/keys', { name: 'cache tenant' });
  expect(created.status).toBe(201);
  const secret = created.body.key as string;
  // Both processes know the key (GET /v1/models authenticates without a model call).
  for (const url of [first, second]) {
    await expect
      .poll(async () => (await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${secret}` } })).status, {
        timeout: 10_000,
        interval: 100,
      })
      .toBe(200);
  }
  return { id: created.body.id as string, secret };
}

const openRedis = () => createClient({ url: redisUrl });

async function withRedis<T>(use: (client: ReturnType<typeof openRedis>) => Promise<T>): Promise<T> {
  const client = openRedis();
  client.on('error', () => {});
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

/** How many cache entries in Redis carry `content` (the simulator echoes it in the answer). */
async function entriesHolding(content: string): Promise<number> {
  const prefix = state.env.REDIS_KEY_PREFIX as string;
  return withRedis(async (client) => {
    let count = 0;
    for await (const batch of client.scanIterator({ MATCH: `${prefix}value:cache:*`, COUNT: 500 })) {
      for (const name of batch) if (((await client.get(name)) ?? '').includes(content)) count++;
    }
    return count;
  });
}

/** The Redis key of the one entry whose stored answer carries `content` (the simulator echoes it). */
async function findEntryName(content: string): Promise<string> {
  const prefix = state.env.REDIS_KEY_PREFIX as string;
  const found = await withRedis(async (client) => {
    for await (const batch of client.scanIterator({ MATCH: `${prefix}value:cache:*`, COUNT: 500 })) {
      for (const name of batch) if (((await client.get(name)) ?? '').includes(content)) return name;
    }
    return null;
  });
  if (found === null) throw new Error(`no entry holds '${content}'`);
  return found;
}

/** The cache key (64 hex digits) of that entry, as DELETE /cache/entries/{key} takes it. */
async function findEntryKey(content: string): Promise<string> {
  const name = await findEntryName(content);
  return name.slice(name.lastIndexOf(':') + 1);
}

describe('Redis cache store when a purge message is lost', () => {
  it('a replica that missed the message stops serving purged entries within refreshMs', async () => {
    const { createRedisState } = await import('../src/state/redis-state.ts');
    const { createSharedCacheStore } = await import('../src/cache/shared-cache-store.ts');
    const prefix = uniqueRedisPrefix();
    const deaf = await createRedisState({ url: redisUrl, prefix });
    const loud = await createRedisState({ url: redisUrl, prefix });
    try {
      // This replica hears no purge message (pub/sub is at most once): only its periodic re-read can tell it.
      const missing: typeof deaf = { ...deaf, subscribe: async () => async () => {} };
      const stale = await createSharedCacheStore(missing, { refreshMs: 300 });
      const other = await createSharedCacheStore(loud, { refreshMs: 300 });
      const now = Date.now();
      const entry = {
        v: 2,
        endpoint: 'chat.completions',
        tenant: 'key-a',
        requestedModel: 'gpt-4o-mini',
        provider: 'openai',
        model: 'gpt-4o-mini',
        operation: 'chat',
        createdAt: now,
        expiresAt: now + 60_000,
        usage: null,
        jsonText: '{"id":"x"}',
      } as const;
      const key = 'a'.repeat(64);
      await other.set(key, entry, entrySize(entry));
      expect((await stale.get(key))?.jsonText).toBe('{"id":"x"}');
      expect(await other.purge({ tenant: 'key-a' })).toBeNull();
      expect(await other.get(key)).toBeUndefined();
      await expect.poll(async () => (await stale.get(key)) === undefined, { timeout: 5000, interval: 50 }).toBe(true);
      // The same for a purge of everything.
      await other.set(`${key.slice(1)}b`, { ...entry, tenant: 'key-b' }, entrySize({ ...entry, tenant: 'key-b' }));
      expect(await stale.get(`${key.slice(1)}b`)).toBeDefined();
      await other.purge();
      await expect.poll(async () => (await stale.get(`${key.slice(1)}b`)) === undefined, { timeout: 5000, interval: 50 }).toBe(true);
      await stale.close();
      await other.close();
    } finally {
      await deaf.close();
      await loud.close();
      await deleteRedisPrefix(redisUrl, prefix);
    }
  });
});
