/**
 * The cache store of replicas: entries in the shared state's key-value with TTL (Redis with
 * REDIS_URL), so an entry stored by one gateway process is a hit on every other. Redis bounds memory
 * itself (maxmemory with an eviction policy); entries over RESPONSE_CACHE_MAX_ENTRY_BYTES are not stored.
 *
 * Purges never scan Redis. They move generations, shared counters announced on a channel:
 * - everything: the store-wide generation is part of every entry's Redis key, so older entries are no
 *   longer found;
 * - one tenant, one requested model, or one tenant's entries of one model: each entry is stored with
 *   the generations of its tenant, of its model and of the pair at that time, and a lookup serves it
 *   only while all three are still current.
 * Purged entries expire in Redis on their own TTL. Each process keeps the generations it has read
 * (a bounded map) and moves them on the channel's messages; since messages are at most once, it also
 * reads them again when they are older than `refreshMs`, so a lost message heals within that time.
 */
import { LRUCache } from 'lru-cache';
import type { SharedState } from '../state/shared-state.ts';
import { type CacheEntry, decodeEntry, encodeEntry } from './cache-entry.ts';
import type { CachePurgeFilter, CacheStore } from './cache-store.ts';

const storeGenerationKey = 'cache:generation';
const purgeChannel = 'cache:purge';
const generationTtlMs = 10 * 365 * 86_400_000;

type Scope = 'tenant' | 'model' | 'pair';

export interface SharedCacheStoreOptions {
  now?: () => number;
  /** How long a generation read from the shared state is trusted without a message (ms, default 5000). */
  refreshMs?: number;
  /** Tenants and models whose generations are kept in memory (default 10000). */
  maxScopes?: number;
}

type Generations = [number, number, number];

/**
 * What is kept in Redis: the tenant's, model's and pair's generations at store time as a JSON array,
 * a newline, then the entry's stored text (cache-entry.ts encodeEntry).
 */
function readStored(text: string): { generations: Generations; entry: CacheEntry } | null {
  const newline = text.indexOf('\n');
  if (newline === -1) return null;
  let generations: unknown;
  try {
    generations = JSON.parse(text.slice(0, newline));
  } catch {
    return null;
  }
  const entry = decodeEntry(text.slice(newline + 1));
  return entry && Array.isArray(generations) && generations.length === 3 ? { generations: generations as Generations, entry } : null;
}

const scopeKey = (scope: Scope, name: string) => `cache:generation:${scope}:${name}`;
const pairName = (tenant: string, model: string) => JSON.stringify([tenant, model]);

export async function createSharedCacheStore(state: SharedState, options: SharedCacheStoreOptions = {}): Promise<CacheStore> {
  const now = options.now ?? Date.now;
  const refreshMs = options.refreshMs ?? 5000;
  let generation = 0;
  let generationReadAt = Number.NEGATIVE_INFINITY;
  const scopes = new LRUCache<string, number>({ max: options.maxScopes ?? 10_000, ttl: refreshMs, ttlAutopurge: false });

  const readGeneration = async () => {
    const readAt = now();
    const [value = 0] = await state.counters([storeGenerationKey]);
    generation = Math.max(generation, value);
    generationReadAt = readAt;
  };
  try {
    await readGeneration();
  } catch {
    // Redis down at start: read again on the first lookup or store (which fail meanwhile anyway).
  }
  const unsubscribe = await state.subscribe(purgeChannel, (message) => {
    // `<n>` for the whole store, `tenant|model|pair <n> <name>` for one scope.
    const [first = '', second = '', ...rest] = message.split(' ');
    if (first === 'tenant' || first === 'model' || first === 'pair') {
      const value = Number(second);
      const key = scopeKey(first, rest.join(' '));
      if (Number.isSafeInteger(value) && value > (scopes.get(key, { allowStale: true }) ?? -1)) scopes.set(key, value);
      return;
    }
    const value = Number(first);
    if (Number.isSafeInteger(value) && value > generation) generation = value;
  });

  const current = async () => {
    if (now() - generationReadAt > refreshMs) await readGeneration();
    return generation;
  };
  /** The current generations of a tenant, a model and the pair (read from the shared state when not known or old). */
  const scopeGenerations = async (tenant: string, model: string): Promise<Generations> => {
    const keys = [scopeKey('tenant', tenant), scopeKey('model', model), scopeKey('pair', pairName(tenant, model))];
    const known = keys.map((key) => scopes.get(key));
    if (known.some((value) => value === undefined)) {
      const values = await state.counters(keys);
      keys.forEach((key, index) => {
        known[index] = Math.max(values[index] ?? 0, scopes.get(key, { allowStale: true }) ?? 0);
        scopes.set(key, known[index]);
      });
    }
    return known as Generations;
  };
  const sameGenerations = (left: Generations, right: Generations) => left[0] === right[0] && left[1] === right[1] && left[2] === right[2];
  const entryKey = (at: number, key: string) => `cache:${at}:${key}`;

  return {
    async get(key) {
      const text = await state.get(entryKey(await current(), key));
      if (text === undefined) return undefined;
      const stored = readStored(text);
      // A value in another layout (written by an older gateway) is a miss; the next answer replaces it.
      if (!stored || stored.entry.expiresAt <= now()) return undefined;
      const { entry, generations } = stored;
      return sameGenerations(generations, await scopeGenerations(entry.tenant, entry.requestedModel)) ? entry : undefined;
    },
    async set(key, entry) {
      const ttlMs = entry.expiresAt - now();
      if (ttlMs <= 0) return;
      const at = await current();
      const generations = await scopeGenerations(entry.tenant, entry.requestedModel);
      await state.set(entryKey(at, key), `${JSON.stringify(generations)}\n${encodeEntry(entry)}`, ttlMs);
    },
    async delete(key) {
      const name = entryKey(await current(), key);
      const found = (await state.get(name)) !== undefined;
      await state.delete(name);
      return found;
    },
    async purge(filter: CachePurgeFilter = {}) {
      const { tenant, requestedModel } = filter;
      if (tenant === undefined && requestedModel === undefined) {
        const [next] = await state.settle([{ key: storeGenerationKey, delta: 1 }], generationTtlMs);
        generation = Math.max(generation, next ?? generation + 1);
        await state.publish(purgeChannel, String(generation));
        return null;
      }
      const [scope, name]: [Scope, string] =
        tenant !== undefined && requestedModel !== undefined
          ? ['pair', pairName(tenant, requestedModel)]
          : tenant !== undefined
            ? ['tenant', tenant]
            : ['model', requestedModel as string];
      const [value = 0] = await state.settle([{ key: scopeKey(scope, name), delta: 1 }], generationTtlMs);
      scopes.set(scopeKey(scope, name), value);
      await state.publish(purgeChannel, `${scope} ${value} ${name}`);
      return null;
    },
    stats() {
      return { kind: 'redis', entries: null, bytes: null, maxEntries: null, maxBytes: null };
    },
    async close() {
      await unsubscribe();
    },
  };
}
