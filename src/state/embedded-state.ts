/**
 * The embedded shared state (the default, no server): one process, so every operation is atomic by
 * running synchronously. Windows, slots, key-values and messages live in memory; durable counters
 * (budgets) are also written to SQLite so that spend survives a restart.
 *
 * Counter writes are coalesced: memory is the truth, and the rows changed meanwhile are written in one
 * transaction (one row per counter, its latest value), not one transaction per change, which cost a budget
 * call two SQLite commits. A reservation is written at the end of the event-loop turn it was made in, and
 * `reserve` resolves only once its row is on disk, so a call goes upstream only after its worst case is
 * durable, as before. A settlement (fire and forget for the budget stage) is written with the next
 * reservation, or after `settleDelayMs` at the latest, and `settle` resolves once written; a crash in
 * between leaves the reserved worst case on disk (more than the real cost for a settlement that gives some
 * back). `close` writes what is pending.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3, { type Database as SqliteDatabase } from 'better-sqlite3';
import { gcra } from './gcra.ts';
import { checkAmount, type ReserveEntry, type ReserveResult, type SharedState, type WindowEntry } from './shared-state.ts';

export interface EmbeddedStateOptions {
  /** SQLite file for durable counters; ':memory:' (the default) keeps them for the life of the process. */
  sqlitePath?: string;
  now?: () => number;
  /** How long a settlement may wait to be written with a later reservation (default 5 ms). */
  settleDelayMs?: number;
}

interface Expiring<T> {
  value: T;
  expiresAt: number;
}

function openCounterStore(path: string, at: number) {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const database: SqliteDatabase = new BetterSqlite3(path);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 5000');
  database.exec('create table if not exists state_counter (key text primary key, value integer not null, expires_at integer not null)');
  database.prepare('delete from state_counter where expires_at <= ?').run(at);
  const write = database.prepare(
    'insert into state_counter (key, value, expires_at) values (?, ?, ?) on conflict (key) do update set value = excluded.value, expires_at = excluded.expires_at',
  );
  return {
    database,
    read: database.prepare('select value, expires_at from state_counter where key = ?'),
    writeAll: database.transaction((rows: [string, number, number][]) => {
      for (const row of rows) write.run(...row);
    }),
  };
}

export function createEmbeddedState(options: EmbeddedStateOptions = {}): SharedState {
  const now = options.now ?? Date.now;
  // Opened on the first durable counter: a gateway without budgets never creates the file.
  let counterStore: ReturnType<typeof openCounterStore> | undefined;
  const store = () => {
    counterStore ??= openCounterStore(options.sqlitePath ?? ':memory:', now());
    return counterStore;
  };

  const windows = new Map<string, Expiring<number>>();
  const slots = new Map<string, Expiring<number>>();
  const values = new Map<string, Expiring<string>>();
  const counters = new Map<string, Expiring<number>>();
  const listeners = new Map<string, Set<(message: string) => void>>();
  let sweptAt = now();

  const live = <T>(map: Map<string, Expiring<T>>, key: string, at: number): T | undefined => {
    const found = map.get(key);
    if (!found) return undefined;
    if (found.expiresAt <= at) {
      map.delete(key);
      return undefined;
    }
    return found.value;
  };
  // Expired entries of keys never read again are dropped once a minute, so memory stays bounded.
  const sweep = (at: number) => {
    if (at - sweptAt < 60_000) return;
    sweptAt = at;
    for (const map of [windows, slots, values, counters] as Map<string, Expiring<unknown>>[]) {
      for (const [key, entry] of map) if (entry.expiresAt <= at) map.delete(key);
    }
  };
  const counterValue = (key: string, at: number): number => {
    const cached = live(counters, key, at);
    if (cached !== undefined) return cached;
    const row = store().read.get(key) as { value: number; expires_at: number } | undefined;
    if (!row || row.expires_at <= at) return 0;
    counters.set(key, { value: Number(row.value), expiresAt: Number(row.expires_at) });
    return Number(row.value);
  };
  const settleDelayMs = options.settleDelayMs ?? 5;
  /** Counter rows changed since the last write (key -> [key, value, expires_at]), and who waits for it. */
  const unwritten = new Map<string, [string, number, number]>();
  let waiting: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  let endOfTurn: NodeJS.Immediate | undefined;
  let delayed: NodeJS.Timeout | undefined;
  const writeCounters = () => {
    if (endOfTurn) clearImmediate(endOfTurn);
    if (delayed) clearTimeout(delayed);
    endOfTurn = undefined;
    delayed = undefined;
    const rows = [...unwritten.values()];
    const waiters = waiting;
    unwritten.clear();
    waiting = [];
    try {
      if (rows.length > 0) store().writeAll(rows);
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error);
      return;
    }
    for (const waiter of waiters) waiter.resolve();
  };
  /** Sets counters in memory at once; resolves when their rows are written (soon: at the end of this turn). */
  const storeCounters = (entries: { key: string; value: number }[], expiresAt: number, soon: boolean): Promise<void> => {
    for (const entry of entries) {
      counters.set(entry.key, { value: entry.value, expiresAt });
      unwritten.set(entry.key, [entry.key, entry.value, expiresAt]);
    }
    const written = new Promise<void>((resolve, reject) => waiting.push({ resolve, reject }));
    if (soon) endOfTurn ??= setImmediate(writeCounters);
    else if (!endOfTurn) delayed ??= setTimeout(writeCounters, settleDelayMs);
    return written;
  };
  const fitAll = (entries: ReserveEntry[], current: (key: string) => number): ReserveResult => {
    const totals = entries.map((entry) => current(entry.key));
    const refused = entries.findIndex((entry, index) => (totals[index] as number) + entry.amount > entry.limit);
    if (refused >= 0) return { granted: false, totals, refusedIndex: refused };
    return { granted: true, totals: totals.map((total, index) => total + (entries[index] as ReserveEntry).amount), refusedIndex: null };
  };

  const consumeNow = (entries: WindowEntry[], force: boolean) => {
    const at = now();
    sweep(at);
    const step = gcra(
      entries,
      entries.map((entry) => live(windows, entry.key, at)),
      at,
      force,
    );
    if (step.write) {
      entries.forEach((entry, index) => {
        const tat = step.tats[index] as number;
        windows.set(entry.key, { value: tat, expiresAt: tat + 1000 });
      });
    }
    return step.result;
  };

  let closed = false;
  return {
    kind: 'embedded',
    available: true,
    onAvailabilityChange: () => () => {},
    async consume(entries, consumeOptions) {
      for (const entry of entries) checkAmount('cost', entry.cost);
      return consumeNow(entries, consumeOptions?.force ?? false);
    },
    async peek(entries) {
      return consumeNow(
        entries.map((entry) => ({ ...entry, cost: 0 })),
        false,
      );
    },
    async reserve(entries, ttlMs) {
      for (const entry of entries) checkAmount('amount', entry.amount);
      const at = now();
      const result = fitAll(entries, (key) => counterValue(key, at));
      if (result.granted) {
        await storeCounters(
          entries.map((entry, index) => ({ key: entry.key, value: result.totals[index] as number })),
          at + ttlMs,
          true,
        );
      }
      return result;
    },
    async settle(entries, ttlMs) {
      for (const entry of entries) checkAmount('delta', entry.delta);
      const at = now();
      const updated = entries.map((entry) => ({ key: entry.key, value: counterValue(entry.key, at) + entry.delta }));
      await storeCounters(updated, at + ttlMs, false);
      return updated.map((entry) => entry.value);
    },
    async counters(keys) {
      const at = now();
      return keys.map((key) => counterValue(key, at));
    },
    async acquire(entries, ttlMs) {
      const at = now();
      sweep(at);
      const result = fitAll(
        entries.map((entry) => ({ ...entry, amount: 1 })),
        (key) => live(slots, key, at) ?? 0,
      );
      if (result.granted) {
        entries.forEach((entry, index) => {
          slots.set(entry.key, { value: result.totals[index] as number, expiresAt: at + ttlMs });
        });
      }
      return result;
    },
    async release(keys) {
      const at = now();
      for (const key of keys) {
        const found = slots.get(key);
        if (!found) continue;
        if (found.value <= 1 || found.expiresAt <= at) slots.delete(key);
        else found.value -= 1;
      }
    },
    async slots(keys) {
      const at = now();
      return keys.map((key) => live(slots, key, at) ?? 0);
    },
    async get(key) {
      return live(values, key, now());
    },
    async set(key, value, ttlMs) {
      const at = now();
      sweep(at);
      values.set(key, { value, expiresAt: at + ttlMs });
    },
    async delete(key) {
      values.delete(key);
    },
    async publish(channel, message) {
      for (const listener of [...(listeners.get(channel) ?? [])]) {
        // Delivered on a later tick, as from Redis: a publisher never runs its subscribers inline.
        queueMicrotask(() => listener(message));
      }
    },
    async subscribe(channel, listener) {
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
      }
      set.add(listener);
      return async () => {
        set.delete(listener);
      };
    },
    async close() {
      listeners.clear();
      if (closed) return;
      closed = true;
      writeCounters();
      counterStore?.database.close();
    },
  };
}
