/** Redis stopped and restarted under the shared state: operations fail fast, then recover by themselves. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRedisState } from '../src/state/redis-state.ts';
import { isStateUnavailable, type SharedState } from '../src/state/shared-state.ts';
import { type OwnRedis, startOwnRedis, waitFor } from './helpers/redis-server.ts';

let redis: OwnRedis;
let state: SharedState;
const changes: boolean[] = [];

beforeAll(async () => {
  redis = await startOwnRedis();
  state = await createRedisState({ url: redis.url, prefix: 'outage-test:' });
  state.onAvailabilityChange((available) => changes.push(available));
});
afterAll(async () => {
  await state?.close();
  await redis?.stop();
});

it('fails fast while Redis is down and recovers when it is back', async () => {
  const entry = { key: 'requests', limit: 100, windowMs: 60_000, cost: 1 };
  expect((await state.consume([entry])).allowed).toBe(true);

  await redis.stop();
  await waitFor(() => !state.available);
  const failure = await state.consume([entry]).catch((error: unknown) => error);
  expect(isStateUnavailable(failure)).toBe(true);
  const reserveFailure = await state.reserve([{ key: 'budget', amount: 1, limit: 10 }], 60_000).catch((error: unknown) => error);
  expect(isStateUnavailable(reserveFailure)).toBe(true);

  await redis.start();
  await waitFor(() => state.available);
  // The restarted server has no scripts cached: the store loads them again by itself.
  expect((await state.consume([entry])).allowed).toBe(true);
  expect((await state.reserve([{ key: 'budget', amount: 1, limit: 10 }], 60_000)).granted).toBe(true);
  expect(changes).toEqual([false, true]);
});
