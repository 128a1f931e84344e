/**
 * The cache store of replicas: entries in the shared state's key-value with TTL (Redis with
 * REDIS_URL), so an entry stored by one gateway process is a hit on every other. Purging everything
 * moves all replicas to a new generation (a shared counter, announced on a channel): older entries
 * are no longer found and expire in Redis on their own TTL. Redis bounds memory itself (maxmemory
 * with an eviction policy); entries over RESPONSE_CACHE_MAX_ENTRY_BYTES are not stored.
 */
import type { SharedState } from '../state/shared-state.ts';
import type { CacheEntry } from './cache-entry.ts';
import type { CacheStore } from './cache-store.ts';

const generationKey = 'cache:generation';
const purgeChannel = 'cache:purge';
const generationTtlMs = 10 * 365 * 86_400_000;

export async function createSharedCacheStore(state: SharedState, now: () => number = Date.now): Promise<CacheStore> {
  let generation = 0;
  try {
    generation = (await state.counters([generationKey]))[0] ?? 0;
  } catch {
    // Redis down at start: generation 0 until the next purge message; lookups fail and bypass meanwhile.
  }
  const unsubscribe = await state.subscribe(purgeChannel, (message) => {
    const value = Number(message);
    if (Number.isSafeInteger(value) && value > generation) generation = value;
  });
  const entryKey = (key: string) => `cache:${generation}:${key}`;
  return {
    async get(key) {
      const text = await state.get(entryKey(key));
      if (text === undefined) return undefined;
      const entry = JSON.parse(text) as CacheEntry;
      return entry.expiresAt > now() ? entry : undefined;
    },
    async set(key, entry, text) {
      const ttlMs = entry.expiresAt - now();
      if (ttlMs > 0) await state.set(entryKey(key), text, ttlMs);
    },
    async delete(key) {
      const found = (await state.get(entryKey(key))) !== undefined;
      await state.delete(entryKey(key));
      return found;
    },
    async purge(filter = {}) {
      if (filter.tenant !== undefined || filter.requestedModel !== undefined) {
        throw new Error('purging by tenant or model is not available with the Redis cache store');
      }
      const [next] = await state.settle([{ key: generationKey, delta: 1 }], generationTtlMs);
      generation = Math.max(generation, next ?? generation + 1);
      await state.publish(purgeChannel, String(generation));
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
