/**
 * What gateway replicas must share, behind one small interface: counters with windows (GCRA), atomic
 * reserve/settle counters (budgets), slots (concurrency), key-value with TTL, and invalidation messages.
 * Two implementations: embedded (memory + SQLite, the default, one process) and Redis (REDIS_URL; Lua
 * scripts make every multi-key operation atomic across replicas). Nothing else in the gateway talks to Redis.
 *
 * Every multi-key operation is all or nothing: either every entry fits and all are applied, or none is.
 * Amounts are integers (callers count micro-dollars, tokens, requests).
 */
import { GatewayError } from '../core/errors.ts';

/** One window of a rate limit: `limit` units per `windowMs`, replenished continuously (GCRA). */
export interface WindowEntry {
  key: string;
  limit: number;
  windowMs: number;
  /** Units to take; 0 only asks whether the window still has room. */
  cost: number;
}

export interface WindowState {
  limit: number;
  /** Units left after this call (0 when refused or full). */
  remaining: number;
  /** ms until the window is fully replenished. */
  resetMs: number;
}

export interface WindowResult {
  allowed: boolean;
  /** ms until the call would fit (0 when allowed). */
  retryAfterMs: number;
  windows: WindowState[];
}

export interface ReserveEntry {
  key: string;
  amount: number;
  limit: number;
}

export interface ReserveResult {
  granted: boolean;
  /** Counter values after the call (unchanged when refused). */
  totals: number[];
  /** Index of the first entry that did not fit, when refused. */
  refusedIndex: number | null;
}

export interface SettleEntry {
  key: string;
  /** Added to the counter; negative to give back part of a reservation. */
  delta: number;
}

export type StateKind = 'embedded' | 'redis';

export interface SharedState {
  readonly kind: StateKind;
  /** False while the backing store cannot be reached (Redis down); operations then throw `stateUnavailable`. */
  readonly available: boolean;
  /** Called with `false` when the store becomes unreachable and `true` when it is back. */
  onAvailabilityChange(listener: (available: boolean) => void): () => void;

  /**
   * GCRA over every entry at once: when all fit, takes `cost` from each; otherwise takes nothing.
   * With `force`, takes the cost even when it does not fit (usage learned after the fact, like tokens).
   */
  consume(entries: WindowEntry[], options?: { force?: boolean }): Promise<WindowResult>;
  /** Reads windows without taking anything. */
  peek(entries: Omit<WindowEntry, 'cost'>[]): Promise<WindowResult>;

  /**
   * Durable counters (budgets): adds each amount unless some counter would pass its limit, in which case
   * nothing is added. Counters expire `ttlMs` after their last change. Embedded: kept in SQLite.
   */
  reserve(entries: ReserveEntry[], ttlMs: number): Promise<ReserveResult>;
  /** Moves counters by their deltas (settling a reservation to the real amount); never refused. */
  settle(entries: SettleEntry[], ttlMs: number): Promise<number[]>;
  /** Current values of durable counters (0 when absent). */
  counters(keys: string[]): Promise<number[]>;

  /** Concurrency slots: takes one slot of each key if all have room (`limit`); slots expire after `ttlMs`. */
  acquire(entries: { key: string; limit: number }[], ttlMs: number): Promise<ReserveResult>;
  release(keys: string[]): Promise<void>;
  /** Slots of each key in use now (0 when none), read without taking any. */
  slots(keys: string[]): Promise<number[]>;

  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;

  /** Delivers `message` to every replica's subscribers of `channel` (this process included). At most once. */
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>>;

  close(): Promise<void>;
}

export function stateUnavailable(cause?: unknown): GatewayError {
  return new GatewayError('Shared state (Redis) is unavailable', {
    status: 503,
    code: 'shared_state_unavailable',
    retryable: true,
    cause,
  });
}

export function isStateUnavailable(error: unknown): boolean {
  return error instanceof GatewayError && error.code === 'shared_state_unavailable';
}

export function checkAmount(name: string, value: number): void {
  if (!Number.isSafeInteger(value)) throw new TypeError(`shared state: ${name} must be a safe integer, got ${value}`);
}
