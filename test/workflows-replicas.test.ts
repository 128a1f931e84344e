/**
 * Two gateway processes sharing Redis and PostgreSQL: a workflow written through one replica's admin API
 * is in force on the other through the change message alone (periodic reload switched off), and so are
 * its new version and its deletion. The switch observed is the cache (X-Cache), whose key carries the
 * workflow version, so a new version is a miss on both replicas.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReplicaSet, startReplicaSet } from './helpers/replica-set.ts';
import { createStateBackend, type StateBackend } from './helpers/state-backends.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'mg-workflow-replicas';
const headers = { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' };

let simulator: Simulator;
let storage: StorageBackend;
let state: StateBackend;
let replicas: ReplicaSet | undefined;
let urls: string[] = [];

beforeAll(async () => {
  simulator = await startOpenAISimulator({ apiKey: 'sk-workflow-replicas' });
  storage = createBackend('postgresql');
  state = createStateBackend('redis');
  replicas = await startReplicaSet({
    ...storage.env,
    ...state.env,
    OPENAI_API_KEY: 'sk-workflow-replicas',
    OPENAI_BASE_URL: simulator.baseUrl,
    MODELGATE_MASTER_KEY: masterKey,
    RESPONSE_CACHE_SIMPLE_ENABLED: 'true',
    // Only the change message can carry a write to the other replica.
    WORKFLOWS_REFRESH_SECONDS: '0',
  });
  urls = replicas.urls;
}, 150_000);

afterAll(async () => {
  await replicas?.stop();
  await simulator?.close();
  await state?.cleanup();
  await storage?.cleanup();
});

async function cacheOf(url: string, content: string): Promise<string | null> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ model: 'openai/gpt-4o-mini', max_tokens: 20, messages: [{ role: 'user', content }] }),
  });
  await response.arrayBuffer();
  return response.status === 200 ? response.headers.get('x-cache') : `status ${response.status}`;
}

function admin(url: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${url}/admin/api/v1${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

describe('workflows across two gateway processes', { timeout: 90_000 }, () => {
  it('a workflow written on one replica applies on the other, and so do its new version and its deletion', async () => {
    const [first = '', second = ''] = urls;
    expect(await cacheOf(second, 'replicated')).toBe('MISS');
    // The entry is stored after the answer has gone out: the other replica sees it a moment later.
    await expect.poll(() => cacheOf(first, 'replicated'), { timeout: 10_000, interval: 100 }).toBe('HIT (exact)');

    const created = await admin(first, 'POST', '/workflows', { name: 'everyone', cache: false });
    expect(created.status).toBe(200);
    expect(await cacheOf(first, 'replicated')).toBe('BYPASS');
    await expect.poll(() => cacheOf(second, 'replicated'), { timeout: 15_000, interval: 200 }).toBe('BYPASS');

    // Version 2 switches the cache back on: its key carries everyone@2, so the first call misses.
    const replaced = await admin(second, 'PUT', '/workflows/everyone', { cache: true });
    expect(((await replaced.json()) as { version: number }).version).toBe(2);
    await expect.poll(() => cacheOf(first, 'replicated'), { timeout: 15_000, interval: 200 }).toBe('MISS');
    await expect.poll(() => cacheOf(second, 'replicated'), { timeout: 10_000, interval: 100 }).toBe('HIT (exact)');

    // Deleted: the calls are back on the key without a workflow, stored before the workflow existed.
    expect((await admin(first, 'DELETE', '/workflows/everyone')).status).toBe(200);
    await expect.poll(() => cacheOf(second, 'replicated'), { timeout: 15_000, interval: 200 }).toBe('HIT (exact)');
    const versions = (await (await admin(second, 'GET', '/workflows/everyone/versions')).json()) as { data: { version: number }[] };
    expect(versions.data.map((entry) => entry.version)).toEqual([1, 2, 3]);
  });
});
