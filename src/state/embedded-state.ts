/**
 * The embedded shared state (the default, no server): one process, so every operation is atomic by
 * running synchronously. Windows, slots, key-values and messages live in memory; durable counters
 * (budgets) are also written to SQLite so that spend survives a restart.
 *
 * Memory is the truth for counters; what SQLite holds is a **durable bound**: for every counter, a value
 * never below the one in memory whenever a reservation has been granted. A reservation that stays under
 * its counter's bound writes nothing; one that passes it raises the bound to the new value plus a headroom
 * (`counterHeadroom` of the entry's limit, 1 % by default, never past the limit), and `reserve` resolves only
 * once that row is on disk, so a call goes upstream only after its worst case is durable. The rows of one
 * event-loop turn are written in one transaction. A settlement that gives some back changes memory only; one
 * that passes the bound is written within `settleDelayMs`, or with the next reservation, and `settle` resolves
 * once written. `close` writes every counter's exact value. So after a clean stop the counters are exact,
 * and after a crash each is above the real spend by at most its headroom plus the worst cases of the calls
 * that were in flight (and what later settlements gave back of them): budgets err on the safe side, never
 * below what was spent. Writing on every reservation cost a SQLite commit per call (about 80 us of CPU).
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
  /** Headroom of a counter's durable bound, as a fraction of the reservation's limit (default 0.01). */
  counterHeadroom?: number;
}

/** A durable counter: its value (the truth) and the bound its row on disk holds (-1: no row yet). */
interface Counter extends Expiring<number> {
  onDisk: number;
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
  const counters = new Map<string, Counter>();
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
  const counterOf = (key: string, at: number): Counter | undefined => {
    const cached = counters.get(key);
    if (cached && cached.expiresAt > at) return cached;
    if (cached) counters.delete(key);
    const row = store().read.get(key) as { value: number; expires_at: number } | undefined;
    if (!row || row.expires_at <= at) return undefined;
    const counter = { value: Number(row.value), expiresAt: Number(row.expires_at), onDisk: Number(row.value) };
    counters.set(key, counter);
    return counter;
  };
  const counterValue = (key: string, at: number): number => counterOf(key, at)?.value ?? 0;
  const settleDelayMs = options.settleDelayMs ?? 5;
  const headroom = options.counterHeadroom ?? 0.01;
  /** Counter rows to write (key -> [key, bound, expires_at]), and who waits for them. */
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
      // The rows are not on disk: the next change of those counters writes them again.
      for (const [key] of rows) {
        const counter = counters.get(key);
        if (counter) counter.onDisk = -1;
      }
      for (const waiter of waiters) waiter.reject(error);
      return;
    }
    for (const waiter of waiters) waiter.resolve();
  };
  /**
   * Sets counters in memory at once. Those whose value passes their bound on disk get a new bound (`bound` of
   * the value: plus headroom for a reservation, the value itself for a settlement); the promise resolves once those rows are written (soon: at the end of this
   * turn), or at once when none needed writing and none of these counters has a row still waiting.
   */
  const storeCounters = (
    entries: { key: string; value: number }[],
    expiresAt: number,
    bound: (value: number, index: number) => number,
    soon: boolean,
  ): Promise<void> => {
    let write = false;
    entries.forEach((entry, index) => {
      let counter = counters.get(entry.key);
      if (!counter) {
        counter = { value: entry.value, expiresAt, onDisk: -1 };
        counters.set(entry.key, counter);
      }
      counter.value = entry.value;
      counter.expiresAt = expiresAt;
      if (entry.value > counter.onDisk) {
        counter.onDisk = bound(entry.value, index);
        unwritten.set(entry.key, [entry.key, counter.onDisk, expiresAt]);
        write = true;
      } else if (unwritten.has(entry.key)) write = true;
    });
    if (!write) return Promise.resolve();
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
          (value, index) => {
            const limit = (entries[index] as ReserveEntry).limit;
            return Math.max(value, Math.min(limit, value + Math.floor(limit * headroom)));
          },
          true,
        );
      }
      return result;
    },
    async settle(entries, ttlMs) {
      for (const entry of entries) checkAmount('delta', entry.delta);
      const at = now();
      const updated = entries.map((entry) => ({ key: entry.key, value: counterValue(entry.key, at) + entry.delta }));
      await storeCounters(updated, at + ttlMs, (value) => value, false);
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
      // Exact values on a clean stop: every counter whose bound on disk is above it.
      for (const [key, counter] of counters) {
        if (counter.onDisk !== counter.value) unwritten.set(key, [key, counter.value, counter.expiresAt]);
      }
      writeCounters();
      counterStore?.database.close();
    },
  };
}
