/**
 * Where cache entries live. Embedded (the default): memory in front of SQLite, one process, survives
 * a restart (src/cache/embedded-cache-store.ts). With REDIS_URL: the shared state's key-value with
 * TTL, so that every replica sees every entry (src/cache/shared-cache-store.ts).
 */
import type { CacheEntry } from './cache-entry.ts';

export interface CachePurgeFilter {
  tenant?: string;
  requestedModel?: string;
}

export interface CacheStoreStats {
  kind: 'embedded' | 'redis';
  /** Entries and bytes held (embedded); null where the store cannot count cheaply (Redis). */
  entries: number | null;
  bytes: number | null;
  maxEntries: number | null;
  maxBytes: number | null;
}

export interface CacheStore {
  /** The entry under `key`; read-only (the embedded store hands out the entry it holds, not a copy). */
  get(key: string): Promise<CacheEntry | undefined>;
  /** Stores the entry until its `expiresAt`; `size` is what it counts for (cache-entry.ts entrySize). */
  set(key: string, entry: CacheEntry, size: number): Promise<void>;
  delete(key: string): Promise<boolean>;
  /**
   * Removes every entry, or those of one tenant and/or requested model. Returns how many went (null
   * when the store cannot tell: Redis drops all entries at once by moving to a new generation).
   */
  purge(filter?: CachePurgeFilter): Promise<number | null>;
  stats(): CacheStoreStats;
  close(): Promise<void>;
}
