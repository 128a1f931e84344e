/**
 * Several API keys for one provider (`OPENAI_API_KEY=k1,k2`, or `providers.<name>.api_keys` with
 * weights in config.yaml). Wraps the provider's upstream client: each request goes out with a key
 * chosen by smooth weighted round robin among the keys that are available; a key answered with 429
 * cools down for the upstream's Retry-After (5 s when it gives none), one answered with 401, 402 or
 * 403 is taken out until `refresh()` (POST /admin/api/v1/runtime/refresh). The request is sent again
 * at once with another key when there is one (no byte has reached the client yet). With every key
 * out the call fails with 502 `upstream_credentials_exhausted`; with keys only cooling down, with a
 * 429 that says when the first one is back. The provider adapter is built with the first key; the
 * pool replaces it in the one header that carries it, so adapters need no change. Keys never appear
 * in errors or status: they are named `key-1`, `key-2`... in configuration order.
 */
import { GatewayError } from '../core/errors.ts';
import type { UpstreamClient, UpstreamRequest, UpstreamResponse } from '../providers/upstream-client.ts';
import type { Clock } from './clock.ts';
import type { WeightedKey } from './resilience-config.ts';
import { retryAfterMs } from './retry-after.ts';

const defaultCoolDownMs = 5000;

export interface KeyStatus {
  key: string;
  weight: number;
  state: 'available' | 'cooling_down' | 'excluded';
  /** Milliseconds left of a cool-down. */
  cool_down_ms: number | null;
  reason: string | null;
  requests: number;
}

export interface KeyPool {
  readonly provider: string;
  /** The keys, for the secret scrubber only. */
  readonly secrets: readonly string[];
  wrap(client: UpstreamClient): UpstreamClient;
  status(): KeyStatus[];
  /** Puts excluded and cooling keys back. */
  refresh(): void;
  /** Whether some key can take a request now. */
  available(): boolean;
}

interface KeyState {
  label: string;
  key: string;
  weight: number;
  current: number;
  coolUntil: number;
  excluded: string | null;
  requests: number;
}

export function credentialsExhausted(provider: string, reason: string): GatewayError {
  return new GatewayError(`Every API key of provider '${provider}' is out (${reason}); POST /admin/api/v1/runtime/refresh after fixing them`, {
    status: 502,
    code: 'upstream_credentials_exhausted',
    type: 'upstream_error',
    retryable: false,
    provider,
  });
}

export function createKeyPool(provider: string, keys: WeightedKey[], clock: Clock): KeyPool {
  const states: KeyState[] = keys.map((entry, index) => ({
    label: `key-${index + 1}`,
    key: entry.key,
    weight: entry.weight,
    current: 0,
    coolUntil: 0,
    excluded: null,
    requests: 0,
  }));
  const placeholder = keys[0]?.key ?? '';

  /** Smooth weighted round robin (as nginx's upstream module) over the available keys. */
  function pick(skip: ReadonlySet<KeyState>): KeyState | null {
    const now = clock.now();
    let total = 0;
    let best: KeyState | null = null;
    for (const state of states) {
      if (state.excluded !== null || state.coolUntil > now || skip.has(state)) continue;
      state.current += state.weight;
      total += state.weight;
      if (!best || state.current > best.current) best = state;
    }
    if (best) best.current -= total;
    return best;
  }

  function unavailable(lastReason: string): GatewayError {
    const now = clock.now();
    const cooling = states.filter((state) => state.excluded === null && state.coolUntil > now);
    if (cooling.length === 0) return credentialsExhausted(provider, lastReason);
    const soonest = Math.min(...cooling.map((state) => state.coolUntil)) - now;
    return new GatewayError(`Every API key of provider '${provider}' is rate limited; the first is back in ${Math.ceil(soonest / 1000)} s`, {
      status: 429,
      code: 'upstream_keys_rate_limited',
      type: 'rate_limit_error',
      retryable: true,
      headers: { 'retry-after': String(Math.max(1, Math.ceil(soonest / 1000))) },
      provider,
    });
  }

  function withKey(request: UpstreamRequest, key: string): UpstreamRequest {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) headers[name] = value.includes(placeholder) ? value.replace(placeholder, key) : value;
    return { ...request, headers };
  }

  return {
    provider,
    secrets: keys.map((entry) => entry.key),
    wrap(client) {
      return {
        close: () => client.close(),
        async send(request) {
          const tried = new Set<KeyState>();
          let lastReason = 'no key available';
          for (;;) {
            const state = pick(tried);
            if (!state) throw unavailable(lastReason);
            tried.add(state);
            state.requests += 1;
            const response: UpstreamResponse = await client.send(withKey(request, state.key));
            const status = response.status;
            if (status === 429) {
              state.coolUntil = clock.now() + (retryAfterMs(response.headers) ?? defaultCoolDownMs);
              lastReason = `${state.label}: HTTP 429`;
            } else if (status === 401 || status === 402 || status === 403) {
              state.excluded = `HTTP ${status}`;
              lastReason = `${state.label}: HTTP ${status}`;
            } else {
              return response;
            }
            const another = states.some((other) => !tried.has(other) && other.excluded === null && other.coolUntil <= clock.now());
            // The last key's own 429 says best when to come back; a refused key is the gateway's problem, not the client's.
            if (!another && status === 429) return response;
            await response.body.dump().catch(() => undefined);
            if (!another) throw unavailable(lastReason);
          }
        },
      };
    },
    status() {
      const now = clock.now();
      return states.map((state) => ({
        key: state.label,
        weight: state.weight,
        state: state.excluded !== null ? 'excluded' : state.coolUntil > now ? 'cooling_down' : 'available',
        cool_down_ms: state.coolUntil > now ? Math.ceil(state.coolUntil - now) : null,
        reason: state.excluded,
        requests: state.requests,
      }));
    },
    available() {
      const now = clock.now();
      return states.some((state) => state.excluded === null && state.coolUntil <= now);
    },
    refresh() {
      for (const state of states) {
        state.excluded = null;
        state.coolUntil = 0;
        state.current = 0;
      }
    },
  };
}

/** Key pools of the providers configured with more than one key. */
export function createKeyPools(providers: readonly { name: string; apiKeys?: WeightedKey[] }[], clock: Clock): Map<string, KeyPool> {
  const pools = new Map<string, KeyPool>();
  for (const provider of providers) {
    if (provider.apiKeys && provider.apiKeys.length > 1) pools.set(provider.name, createKeyPool(provider.name, provider.apiKeys, clock));
  }
  return pools;
}
