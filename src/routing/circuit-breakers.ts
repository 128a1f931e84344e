/**
 * One circuit breaker per target (provider instance + upstream model), with the settings of its
 * provider (config `providers.<name>.circuit_breaker`) or the global ones (CIRCUIT_BREAKER_*).
 * closed -> open after `failureThreshold` consecutive failures; open -> half-open after `timeoutMs`;
 * half-open lets one probe through at a time and closes after `successThreshold` successful probes,
 * or opens again on a failed one. Failures are 5xx answers, timeouts and connection errors; a 429 is
 * the upstream working as designed and neither trips nor closes a circuit; other 4xx count as the
 * upstream answering. Also keeps what the status page shows per target: in flight and mean latency.
 *
 * Bounded: a client may name any model behind a provider (`openai/<anything>`), so the breakers are
 * kept in an LRU of `maxBreakers` targets (default 4,096). A breaker in use is looked up on every call
 * and stays; one of a name that random traffic pushed out starts closed again when it comes back.
 */
import { LRUCache } from 'lru-cache';
import type { Attempt } from '../core/outcome.ts';
import type { Clock } from './clock.ts';
import type { BreakerSettings } from './resilience-config.ts';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreaker {
  readonly provider: string;
  readonly model: string;
  state(): CircuitState;
  /** Whether a call may go now; in half-open state this takes the single probe slot. */
  tryAcquire(): boolean;
  /** Milliseconds until an open circuit lets a probe through. */
  retryInMs(): number;
  /** Records the attempts of one call (those after `from`) and releases a probe slot. */
  settle(attempts: readonly Attempt[], from: number): void;
  inFlight: number;
  /** Exponentially weighted mean of attempt latencies, ms; null before the first. */
  latencyMs: number | null;
  consecutiveFailures: number;
}

export interface CircuitBreakers {
  get(provider: string, model: string): CircuitBreaker;
  /** Whether routing may pick the target (false while its circuit is open). */
  available(provider: string, model: string): boolean;
  all(): CircuitBreaker[];
  /** Targets tracked now (at most `maxBreakers`). */
  size(): number;
}

/** Default bound on the targets tracked (see the header). */
export const defaultMaxBreakers = 4_096;

const smoothing = 0.2;

type Verdict = 'failure' | 'success' | 'neutral';

export function attemptVerdict(attempt: Attempt): Verdict {
  if (attempt.status === 429 || attempt.status === 499 || attempt.error === 'circuit_open') return 'neutral';
  if (attempt.status >= 500 || attempt.status === 408) return attempt.error === 'upstream_credentials_exhausted' ? 'neutral' : 'failure';
  return 'success';
}

function createBreaker(provider: string, model: string, settings: BreakerSettings, clock: Clock): CircuitBreaker {
  let state: CircuitState = 'closed';
  let openedAt = 0;
  let probing = false;
  let successes = 0;
  const open = () => {
    state = 'open';
    openedAt = clock.now();
    probing = false;
    successes = 0;
  };
  const breaker: CircuitBreaker = {
    provider,
    model,
    inFlight: 0,
    latencyMs: null,
    consecutiveFailures: 0,
    state() {
      if (state === 'open' && clock.now() - openedAt >= settings.timeoutMs) {
        state = 'half-open';
        successes = 0;
      }
      return state;
    },
    tryAcquire() {
      const current = breaker.state();
      if (current === 'closed') return true;
      if (current === 'open' || probing) return false;
      probing = true;
      return true;
    },
    retryInMs() {
      return state === 'open' ? Math.max(0, settings.timeoutMs - (clock.now() - openedAt)) : 0;
    },
    settle(attempts, from) {
      const probe = state === 'half-open' && probing;
      probing = false;
      for (let index = from; index < attempts.length; index++) {
        const attempt = attempts[index] as Attempt;
        if (attempt.provider !== provider || attempt.model !== model) continue;
        breaker.latencyMs =
          breaker.latencyMs === null ? attempt.latencyMs : breaker.latencyMs + smoothing * (attempt.latencyMs - breaker.latencyMs);
        const verdict = attemptVerdict(attempt);
        if (verdict === 'neutral') continue;
        if (verdict === 'failure') {
          breaker.consecutiveFailures += 1;
          if (state === 'half-open' || (state === 'closed' && breaker.consecutiveFailures >= settings.failureThreshold)) open();
          continue;
        }
        breaker.consecutiveFailures = 0;
        if (state === 'half-open' && probe) {
          successes += 1;
          if (successes >= settings.successThreshold) state = 'closed';
        }
      }
    },
  };
  return breaker;
}

export function createCircuitBreakers(
  defaults: BreakerSettings,
  perProvider: Record<string, BreakerSettings>,
  clock: Clock,
  maxBreakers = defaultMaxBreakers,
): CircuitBreakers {
  const breakers = new LRUCache<string, CircuitBreaker>({ max: Math.max(1, maxBreakers) });
  const keyOf = (provider: string, model: string) => `${provider}\u0000${model}`;
  const get = (provider: string, model: string): CircuitBreaker => {
    const key = keyOf(provider, model);
    let breaker = breakers.get(key);
    if (!breaker) {
      breaker = createBreaker(provider, model, perProvider[provider] ?? defaults, clock);
      breakers.set(key, breaker);
    }
    return breaker;
  };
  return {
    get,
    available(provider, model) {
      const breaker = breakers.get(keyOf(provider, model));
      return breaker === undefined || breaker.state() !== 'open';
    },
    all() {
      return [...breakers.values()];
    },
    size: () => breakers.size,
  };
}
