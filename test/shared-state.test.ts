/** One suite for both shared-state implementations: the embedded store and real Redis. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SharedState } from '../src/state/shared-state.ts';
import { createStateBackend, type StateBackend } from './helpers/state-backends.ts';

const minute = 60_000;
const day = 86_400_000;

function nextMessage(state: SharedState, channel: string): Promise<string> {
  return new Promise((resolve, reject) => {
    state.subscribe(channel, resolve).catch(reject);
  });
}

describe.each(['embedded', 'redis'] as const)('shared state: %s', (name) => {
  let backend: StateBackend;
  let state: SharedState;
  let run = 0;
  const key = (label: string) => `${label}-${++run}`;

  beforeAll(async () => {
    backend = createStateBackend(name);
    state = await backend.open();
  });
  afterAll(async () => {
    await backend.cleanup();
  });

  it('is available and says which kind it is', () => {
    expect(state.kind).toBe(name);
    expect(state.available).toBe(true);
  });

  it('admits exactly the limit of a window, then refuses with a retry delay', async () => {
    const entry = { key: key('window'), limit: 5, windowMs: day, cost: 1 };
    const remaining: number[] = [];
    for (let index = 0; index < 5; index++) {
      const result = await state.consume([entry]);
      expect(result.allowed).toBe(true);
      remaining.push(result.windows[0]?.remaining ?? -1);
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    const refused = await state.consume([entry]);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(day / 5);
    expect(refused.windows[0]?.remaining).toBe(0);
    expect(refused.windows[0]?.resetMs).toBeGreaterThan(day - minute);
  });

  it('takes several windows all or nothing', async () => {
    const wide = { key: key('wide'), limit: 10, windowMs: day, cost: 1 };
    const narrow = { key: key('narrow'), limit: 2, windowMs: day, cost: 1 };
    expect((await state.consume([wide, narrow])).allowed).toBe(true);
    expect((await state.consume([wide, narrow])).allowed).toBe(true);
    const third = await state.consume([wide, narrow]);
    expect(third.allowed).toBe(false);
    // The refused call took nothing from the wide window.
    const peeked = await state.peek([{ key: wide.key, limit: 10, windowMs: day }]);
    expect(peeked.windows[0]?.remaining).toBe(8);
  });

  it('forces usage learned after the fact past the limit; a zero-cost check then refuses', async () => {
    const tokens = { key: key('tokens'), limit: 1000, windowMs: minute };
    expect((await state.consume([{ ...tokens, cost: 0 }])).allowed).toBe(true);
    const forced = await state.consume([{ ...tokens, cost: 1500 }], { force: true });
    expect(forced.allowed).toBe(false);
    expect(forced.windows[0]?.remaining).toBe(0);
    const check = await state.consume([{ ...tokens, cost: 0 }]);
    expect(check.allowed).toBe(false);
    expect(check.retryAfterMs).toBeGreaterThan(0);
  });

  it('admits exactly the limit under many parallel calls', async () => {
    const entry = { key: key('parallel'), limit: 20, windowMs: day, cost: 1 };
    const results = await Promise.all(Array.from({ length: 100 }, () => state.consume([entry])));
    expect(results.filter((result) => result.allowed)).toHaveLength(20);
  });

  it('reserves atomically: parallel reservations never pass the limit together', async () => {
    const budget = key('budget');
    const results = await Promise.all(Array.from({ length: 60 }, () => state.reserve([{ key: budget, amount: 7, limit: 100 }], day)));
    const granted = results.filter((result) => result.granted);
    expect(granted).toHaveLength(14);
    for (const result of results) expect(result.totals[0]).toBeLessThanOrEqual(100);
    expect(await state.counters([budget])).toEqual([98]);
    const refused = results.find((result) => !result.granted);
    expect(refused?.refusedIndex).toBe(0);
  });

  it('settles reservations to the real amount and frees the difference', async () => {
    const budget = key('settle');
    expect((await state.reserve([{ key: budget, amount: 80, limit: 100 }], day)).granted).toBe(true);
    expect((await state.reserve([{ key: budget, amount: 30, limit: 100 }], day)).granted).toBe(false);
    expect(await state.settle([{ key: budget, delta: -70 }], day)).toEqual([10]);
    expect((await state.reserve([{ key: budget, amount: 30, limit: 100 }], day)).totals).toEqual([40]);
    expect(await state.counters([budget, key('absent')])).toEqual([40, 0]);
  });

  it('reserves several counters all or nothing', async () => {
    const team = key('team');
    const user = key('user');
    await state.reserve([{ key: user, amount: 45, limit: 50 }], day);
    const both = await state.reserve(
      [
        { key: team, amount: 10, limit: 1000 },
        { key: user, amount: 10, limit: 50 },
      ],
      day,
    );
    expect(both.granted).toBe(false);
    expect(both.refusedIndex).toBe(1);
    expect(await state.counters([team, user])).toEqual([0, 45]);
  });

  it('rejects fractional amounts (callers count integers)', async () => {
    await expect(state.reserve([{ key: key('fraction'), amount: 0.5, limit: 10 }], day)).rejects.toThrow(/integer/);
  });

  it('hands out concurrency slots up to the limit and takes them back', async () => {
    const slot = key('slots');
    const results = await Promise.all(Array.from({ length: 12 }, () => state.acquire([{ key: slot, limit: 3 }], minute)));
    expect(results.filter((result) => result.granted)).toHaveLength(3);
    await state.release([slot]);
    expect((await state.acquire([{ key: slot, limit: 3 }], minute)).granted).toBe(true);
    expect((await state.acquire([{ key: slot, limit: 3 }], minute)).granted).toBe(false);
    expect(await state.slots([slot, key('no-slots')])).toEqual([3, 0]);
    await state.release([slot, slot, slot, slot, slot]);
    expect(await state.slots([slot])).toEqual([0]);
    expect((await state.acquire([{ key: slot, limit: 1 }], minute)).granted).toBe(true);
  });

  it('keeps values until their time to live ends', async () => {
    const valueKey = key('value');
    await state.set(valueKey, 'hello', minute);
    expect(await state.get(valueKey)).toBe('hello');
    await state.delete(valueKey);
    expect(await state.get(valueKey)).toBeUndefined();
    await state.set(valueKey, 'brief', 30);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await state.get(valueKey)).toBeUndefined();
  });

  it('delivers published messages to subscribers', async () => {
    const channel = key('channel');
    const received = nextMessage(state, channel);
    // Let the subscription reach the server before publishing (pub/sub is at most once).
    await new Promise((resolve) => setTimeout(resolve, 50));
    await state.publish(channel, 'revoked:key-1');
    expect(await received).toBe('revoked:key-1');
  });

  it('shares everything with a second handle on the same store (another replica or a restart)', async () => {
    const budget = key('shared-budget');
    const window = { key: key('shared-window'), limit: 30, windowMs: day, cost: 1 };
    await state.reserve([{ key: budget, amount: 40, limit: 100 }], day);
    const other = await backend.open();
    if (name === 'embedded') {
      // While the first handle is open its file holds a durable bound, as a restart after a crash reads it: at
      // least the reservation, at most its headroom (1 % of the limit) above it.
      const [bound = 0] = await other.counters([budget]);
      expect(bound).toBeGreaterThanOrEqual(40);
      expect(bound).toBeLessThanOrEqual(41);
    } else expect(await other.counters([budget])).toEqual([40]);
    if (name === 'redis') {
      // Replicas race on the same counters and windows: the limits still hold across both.
      const reservations = await Promise.all(
        Array.from({ length: 40 }, (_, index) => (index % 2 ? state : other).reserve([{ key: budget, amount: 5, limit: 100 }], day)),
      );
      expect(reservations.filter((result) => result.granted)).toHaveLength(12);
      const windows = await Promise.all(Array.from({ length: 80 }, (_, index) => (index % 2 ? state : other).consume([window])));
      expect(windows.filter((result) => result.allowed)).toHaveLength(30);
      const channel = key('replica-channel');
      const received = nextMessage(other, channel);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await state.publish(channel, 'from-the-first');
      expect(await received).toBe('from-the-first');
    }
  });
});
