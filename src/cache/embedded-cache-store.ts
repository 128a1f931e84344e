/**
 * The embedded cache store: an LRU in memory (lru-cache), bounded by entries and bytes, written
 * through to SQLite so that entries survive a restart. At start the live rows are read back, newest
 * last, up to the caps. Evicted, expired and deleted entries leave SQLite too.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3, { type Database as SqliteDatabase } from 'better-sqlite3';
import { LRUCache } from 'lru-cache';
import type { CacheEntry } from './cache-entry.ts';
import type { CachePurgeFilter, CacheStore } from './cache-store.ts';

interface Held {
  text: string;
  size: number;
  tenant: string;
  requestedModel: string;
  expiresAt: number;
}

export interface EmbeddedCacheStoreOptions {
  sqlitePath: string;
  maxEntries: number;
  maxBytes: number;
  now?: () => number;
  /** Called for each entry dropped to stay within the caps (not for expiry, deletes or purges). */
  onEvict?: () => void;
}

function openDatabase(path: string): SqliteDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const database = new BetterSqlite3(path);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 5000');
  database.exec(`create table if not exists cache_entry (
    key text primary key, tenant text not null, requested_model text not null, value text not null,
    size integer not null, created_at integer not null, expires_at integer not null)`);
  return database;
}

export function createEmbeddedCacheStore(options: EmbeddedCacheStoreOptions): CacheStore {
  const now = options.now ?? Date.now;
  const database = openDatabase(options.sqlitePath);
  const insert = database.prepare(
    `insert into cache_entry (key, tenant, requested_model, value, size, created_at, expires_at) values (?, ?, ?, ?, ?, ?, ?)
     on conflict (key) do update set tenant = excluded.tenant, requested_model = excluded.requested_model, value = excluded.value,
     size = excluded.size, created_at = excluded.created_at, expires_at = excluded.expires_at`,
  );
  const remove = database.prepare('delete from cache_entry where key = ?');
  let bulk = false;
  const memory = new LRUCache<string, Held>({
    max: options.maxEntries,
    maxSize: options.maxBytes,
    sizeCalculation: (held) => held.size,
    dispose: (_held, key, reason) => {
      if (!bulk && reason !== 'set') remove.run(key);
      if (reason === 'evict') options.onEvict?.();
    },
  });

  database.prepare('delete from cache_entry where expires_at <= ?').run(now());
  const rows = database
    .prepare('select key, tenant, requested_model, value, size, expires_at from cache_entry order by created_at asc')
    .all() as { key: string; tenant: string; requested_model: string; value: string; size: number; expires_at: number }[];
  for (const row of rows) {
    if (row.size > options.maxBytes) {
      remove.run(row.key);
      continue;
    }
    memory.set(row.key, {
      text: row.value,
      size: Number(row.size),
      tenant: row.tenant,
      requestedModel: row.requested_model,
      expiresAt: Number(row.expires_at),
    });
  }

  const matches = (held: Held, filter: CachePurgeFilter) =>
    (filter.tenant === undefined || held.tenant === filter.tenant) &&
    (filter.requestedModel === undefined || held.requestedModel === filter.requestedModel);

  return {
    async get(key) {
      const held = memory.get(key);
      if (!held) return undefined;
      if (held.expiresAt <= now()) {
        memory.delete(key);
        return undefined;
      }
      return JSON.parse(held.text) as CacheEntry;
    },
    async set(key, entry, text) {
      const size = Buffer.byteLength(text);
      if (size > options.maxBytes) return;
      insert.run(key, entry.tenant, entry.requestedModel, text, size, entry.createdAt, entry.expiresAt);
      memory.set(key, { text, size, tenant: entry.tenant, requestedModel: entry.requestedModel, expiresAt: entry.expiresAt });
    },
    async delete(key) {
      return memory.delete(key);
    },
    async purge(filter = {}) {
      if (filter.tenant === undefined && filter.requestedModel === undefined) {
        const count = memory.size;
        bulk = true;
        try {
          memory.clear();
        } finally {
          bulk = false;
        }
        database.prepare('delete from cache_entry').run();
        return count;
      }
      let count = 0;
      for (const [key, held] of memory.entries()) {
        if (!matches(held, filter)) continue;
        memory.delete(key);
        count++;
      }
      return count;
    },
    stats() {
      return {
        kind: 'embedded',
        entries: memory.size,
        bytes: memory.calculatedSize,
        maxEntries: options.maxEntries,
        maxBytes: options.maxBytes,
      };
    },
    async close() {
      database.close();
    },
  };
}
