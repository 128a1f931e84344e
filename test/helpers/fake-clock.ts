/**
 * A clock for the resilience stages that never waits: sleeps are recorded and move its time forward at
 * once. Its time is the real monotonic time plus what was slept, so deadlines measured from a request's
 * arrival (performance.now()) stay comparable.
 */
import type { Clock } from '../../src/routing/clock.ts';

export interface FakeClock extends Clock {
  /** Every wait asked for, in order (ms). */
  sleeps: number[];
  advance(ms: number): void;
  /** Forgets the waits and the time slept (call before each request whose deadline a test checks). */
  reset(): void;
}

export function createFakeClock(random = 0.5): FakeClock {
  let slept = 0;
  const clock: FakeClock = {
    sleeps: [],
    now: () => performance.now() + slept,
    random: () => random,
    async sleep(ms, signal) {
      if (signal?.aborted) throw signal.reason;
      clock.sleeps.push(ms);
      slept += ms;
    },
    advance(ms) {
      slept += ms;
    },
    reset() {
      clock.sleeps.length = 0;
      slept = 0;
    },
  };
  return clock;
}
