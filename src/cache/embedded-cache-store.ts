/**
 * The embedded cache store: an LRU in memory (lru-cache), bounded by entries and bytes, backed by
 * SQLite so that entries survive a restart. At start the live rows are read back, newest last, up to
 * the caps. Evicted, expired and deleted entries leave SQLite too.
 *
 * An entry reaches SQLite when it is first served (its first hit) or when the store closes, not when it
 * is stored: most entries are never hit, and writing each miss's ~1 KB row cost about 33 µs of CPU
 * (measured here: 60k entries in transactions of 100, WAL, synchronous NORMAL; neither a larger page
 * cache, mmap nor a rowid layout changed it), about 15 % of a whole relayed call. So a clean stop keeps
 * every entry, and a crash keeps every entry that had been served at least once, less the last
 * `flushMs`; entries never served are lost with the process (a cache, not a record).
 *
 * Memory holds the decoded entries, so a hit parses nothing. The SQLite writes (inserts and deletes,
 * in the order they happened) are queued and run together in one transaction every `flushMs` (50 ms;
 * at once past 256 queued), off the path of the answer that caused them and a fraction of the cost of
 * one transaction per entry; `close` runs what is still queued, so a clean stop keeps every entry, a
 * crash may lose the last `flushMs` of entries (a cache, not a record).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3, { type Database as SqliteDatabase } from 'better-sqlite3';
import { LRUCache } from 'lru-cache';
import { type CacheEntry, decodeEntry, encodeEntry } from './cache-entry.ts';
import type { CachePurgeFilter, CacheStore } from './cache-store.ts';

interface Held {
  entry: CacheEntry;
  size: number;
  /** In SQLite (or queued to be): read back at start, served once, or written at close. */
  persisted: boolean;
}

type Write = { key: string; entry: CacheEntry; text: string; size: number } | { key: string; entry?: undefined };

export interface EmbeddedCacheStoreOptions {
  sqlitePath: string;
  maxEntries: number;
  maxBytes: number;
  now?: () => number;
  /** Called for each entry dropped to stay within the caps (not for expiry, deletes or purges). */
  onEvict?: () => void;
  /** Called when the queued SQLite writes fail (the entries stay in memory; a restart does not find them). */
  onWriteError?: (error: unknown) => void;
  /** How long SQLite writes wait to be written together (ms, default 50). */
  flushMs?: number;
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
  const flushMs = options.flushMs ?? 50;
  let queue: Write[] = [];
  let timer: NodeJS.Timeout | null = null;
  let immediate: NodeJS.Immediate | null = null;
  const writeQueued = database.transaction((writes: Write[]) => {
    for (const write of writes) {
      const { key, entry } = write;
      if (entry === undefined) remove.run(key);
      else insert.run(key, entry.tenant, entry.requestedModel, write.text, write.size, entry.createdAt, entry.expiresAt);
    }
  });
  const flush = () => {
    if (timer) clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
    timer = null;
    immediate = null;
    if (queue.length === 0) return;
    const writes = queue;
    queue = [];
    try {
      writeQueued(writes);
    } catch (error) {
      options.onWriteError?.(error);
    }
  };
  const enqueue = (write: Write) => {
    queue.push(write);
    if (queue.length >= 256) immediate ??= setImmediate(flush);
    else if (!timer) {
      timer = setTimeout(flush, flushMs);
      timer.unref();
    }
  };

  const persist = (key: string, held: Held) => {
    held.persisted = true;
    enqueue({ key, entry: held.entry, text: encodeEntry(held.entry), size: held.size });
  };

  let bulk = false;
  const memory = new LRUCache<string, Held>({
    max: options.maxEntries,
    maxSize: options.maxBytes,
    sizeCalculation: (held) => held.size,
    dispose: (held, key, reason) => {
      // Replaced, evicted, expired or deleted: its row goes too (an entry replacing it is written on its own first hit).
      if (!bulk && held.persisted) enqueue({ key });
      if (reason === 'evict') options.onEvict?.();
    },
  });

  database.prepare('delete from cache_entry where expires_at <= ?').run(now());
  const rows = database.prepare('select key, value, size from cache_entry order by created_at asc').all() as {
    key: string;
    value: string;
    size: number;
  }[];
  for (const row of rows) {
    const entry = row.size > options.maxBytes ? null : decodeEntry(row.value);
    // Too big for the cap now, or written in an older layout (never served: the key's schema moved on).
    if (!entry) {
      remove.run(row.key);
      continue;
    }
    memory.set(row.key, { entry, size: Number(row.size), persisted: true });
  }
  flush();

  const matches = (entry: CacheEntry, filter: CachePurgeFilter) =>
    (filter.tenant === undefined || entry.tenant === filter.tenant) &&
    (filter.requestedModel === undefined || entry.requestedModel === filter.requestedModel);

  return {
    async get(key) {
      const held = memory.get(key);
      if (!held) return undefined;
      if (held.entry.expiresAt <= now()) {
        memory.delete(key);
        return undefined;
      }
      if (!held.persisted) persist(key, held);
      return held.entry;
    },
    async set(key, entry, size) {
      if (size > options.maxBytes) return;
      memory.set(key, { entry, size, persisted: false });
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
        // Every row goes: what is still queued need not be written first.
        queue = [];
        database.prepare('delete from cache_entry').run();
        return count;
      }
      let count = 0;
      for (const [key, held] of memory.entries()) {
        if (!matches(held.entry, filter)) continue;
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
      for (const [key, held] of memory.entries()) if (!held.persisted) persist(key, held);
      flush();
      database.close();
    },
  };
}
