/**
 * Pipeline stage `rate-limit`: requests and tokens per minute and per day, and concurrent requests, per
 * key, user, team, model, provider and global, on the shared state (GCRA windows and slots: atomic in
 * Redis across replicas, in-process when embedded).
 *
 * Per attempt: the concurrency slots of every applicable scope are taken together (all or none), then one
 * GCRA call takes one request from every request window and checks that every token window still has
 * room (all or none). Tokens are known only when the call ends: they are then taken from the token
 * windows (forced, so a window can go into debt and refuse the next calls until it recovers). Slots are
 * given back when the answer ends (JSON at once, streams at their end, abort or failure included).
 *
 * Over a limit: 429 `rate_limit_exceeded` with Retry-After (seconds) and the x-ratelimit-* headers; a
 * model or provider limit marks the target unavailable for routing until it has room again, so virtual
 * models skip it and fallback moves on. Shared state unreachable: RATE_LIMIT_FAIL_MODE=open lets calls
 * through unlimited, closed refuses them with 503; either way `onStateError` is told (log, metric).
 */
import { GatewayError } from '../../core/errors.ts';
import type { Usage } from '../../core/usage.ts';
import type { ModelCall } from '../../pipeline/model-call.ts';
import type { Next, Stage } from '../../pipeline/stage.ts';
import { onResultEnd } from '../../pipeline/stream-end.ts';
import type { ProviderResult } from '../../providers/types.ts';
import { isStateUnavailable, type SharedState, type WindowState } from '../../state/shared-state.ts';
import type { ManagedKey } from '../keys/managed-key.ts';
import type { RateLimitConfig } from './rate-limit-config.ts';
import { formatResetDuration, setRateLimitHeaders } from './rate-limit-headers.ts';
import { type AttemptPlan, applicableLimits, planAttempt, type WindowPlan } from './rate-limit-plan.ts';

export interface RateLimitStageOptions {
  config: RateLimitConfig;
  state: SharedState;
  /** The managed key of a call (undefined for the master key or no key). */
  keyOf(keyId: string | null): ManagedKey | undefined;
  /** False while neither the configuration nor any managed key sets a limit: the stage then only calls next. */
  active(): boolean;
  /** How long a concurrency slot is held at most (a crashed replica's slots expire after it). */
  slotTtlMs: number;
  now?: () => number;
  onStateError?(error: unknown, failMode: RateLimitConfig['failMode']): void;
  onRefused?(scope: string, kind: string): void;
}

export interface RateLimitStage extends Stage {
  /** Whether a target is free of full model/provider limits as far as this replica has seen (for routing). */
  available(provider: string, model: string): boolean;
}

function tokensOf(usage: Usage | null): number {
  return usage ? Math.max(0, Math.round(usage.totalTokens || usage.inputTokens + usage.outputTokens)) : 0;
}

function refusal(message: string, retryAfterMs: number, headers: Record<string, string>): GatewayError {
  return new GatewayError(message, {
    status: 429,
    code: 'rate_limit_exceeded',
    type: 'rate_limit_error',
    retryable: true,
    headers: { ...headers, 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
  });
}

const scopeNames: Record<string, string> = {
  global: 'the gateway',
  key: 'this API key',
  user: 'user',
  team: 'team',
  model: 'model',
  provider: 'provider',
};

function describe(plan: { scope: string; subject: string }): string {
  const name = scopeNames[plan.scope] ?? plan.scope;
  return plan.scope === 'global' || plan.scope === 'key' ? name : `${name} '${plan.subject}'`;
}

const noRelease = () => {};

/** Plans kept per key and target at most (then all are dropped and made again as calls come). */
const maxPlans = 10_000;

const windowNames: Record<string, string> = {
  rpm: 'requests per minute',
  rpd: 'requests per day',
  tpm: 'tokens per minute',
  tpd: 'tokens per day',
};

export function createRateLimitStage(options: RateLimitStageOptions): RateLimitStage {
  const { config, state } = options;
  const now = options.now ?? Date.now;
  /** `provider\0model` or `provider\0` -> time until which its own limits are full (seen by this replica). */
  const fullUntil = new Map<string, number>();
  /**
   * `keyId\0provider\0model` -> the plan of that key (the object it was made for: an updated key is a new
   * object) and target; null when no limit applies. The configuration does not change while the stage lives.
   */
  const plans = new Map<string, { key: ManagedKey | undefined; plan: AttemptPlan | null }>();
  const planOf = (call: ModelCall): AttemptPlan | null => {
    const key = options.keyOf(call.request.keyId);
    const target = call.target;
    const keyId = call.request.keyId ?? '';
    const name = target ? `${keyId}\u0000${target.provider.name}\u0000${target.model}` : keyId;
    const known = plans.get(name);
    if (known && known.key === key) return known.plan;
    const limits = applicableLimits(config, key, target ? { provider: target.provider.name, model: target.model } : null);
    const plan = limits.length === 0 ? null : planAttempt(limits);
    if (plans.size >= maxPlans) plans.clear();
    plans.set(name, { key, plan });
    return plan;
  };

  const noteFull = (windows: WindowPlan[], states: WindowState[], retryAfterMs: number, target: ModelCall['target']) => {
    if (!target) return;
    windows.forEach((window, index) => {
      if ((states[index]?.remaining ?? 1) > 0) return;
      if (window.scope === 'provider') fullUntil.set(`${target.provider.name}\u0000`, now() + retryAfterMs);
      if (window.scope === 'model') fullUntil.set(`${target.provider.name}\u0000${target.model}`, now() + retryAfterMs);
    });
  };

  async function admit(call: ModelCall, plan: AttemptPlan): Promise<() => void> {
    const { slots, windows, windowEntries } = plan;
    if (slots.length > 0) {
      const taken = await state.acquire(
        slots.map((slot) => ({ key: slot.key, limit: slot.limit })),
        options.slotTtlMs,
      );
      if (!taken.granted) {
        const slot = slots[taken.refusedIndex ?? 0] ?? slots[0];
        options.onRefused?.(slot?.scope ?? 'global', 'concurrent');
        throw refusal(`Too many concurrent requests for ${slot ? describe(slot) : 'the gateway'} (limit ${slot?.limit})`, 1000, {});
      }
    }
    const release = slots.length === 0 ? noRelease : () => state.release(slots.map((slot) => slot.key)).catch(() => {});
    if (windows.length === 0) return release;
    let result: Awaited<ReturnType<SharedState['consume']>>;
    try {
      result = await state.consume(windowEntries);
    } catch (error) {
      release();
      throw error;
    }
    const requests = plan.requests.length;
    // Allowed (the usual case): the headers go straight onto the answer's.
    const headers: Record<string, string> = result.allowed ? call.trace.headers : {};
    setRateLimitHeaders(headers, 'requests', result.windows, 0, requests);
    setRateLimitHeaders(headers, 'tokens', result.windows, requests);
    if (!result.allowed) {
      release();
      noteFull(windows, result.windows, result.retryAfterMs, call.target);
      const index = windows.findIndex((_window, position) => (result.windows[position]?.remaining ?? 1) === 0);
      const window = windows[index] ?? windows[0];
      const name = window ? (windowNames[window.name] ?? window.kind) : 'requests';
      options.onRefused?.(window?.scope ?? 'global', window?.kind ?? 'requests');
      throw refusal(
        `Rate limit reached for ${window ? describe(window) : 'the gateway'}: ${window?.limit} ${name}. Retry in ${formatResetDuration(result.retryAfterMs)}.`,
        result.retryAfterMs,
        headers,
      );
    }
    return release;
  }

  const takeTokens = (plan: AttemptPlan, tokens: number) => {
    if (tokens <= 0 || plan.tokens.length === 0) return;
    state
      .consume(
        plan.tokens.map((window) => ({ key: window.key, limit: window.limit, windowMs: window.windowMs, cost: tokens })),
        { force: true },
      )
      .catch(() => {});
  };

  return {
    name: 'rate-limit',
    available(provider, model) {
      if (fullUntil.size === 0) return true;
      const at = now();
      for (const key of [`${provider}\u0000`, `${provider}\u0000${model}`]) {
        const until = fullUntil.get(key);
        if (until === undefined) continue;
        if (until > at) return false;
        fullUntil.delete(key);
      }
      return true;
    },
    handle(call, next) {
      // Nothing limited for this call: straight through, without a promise of this stage's own.
      if (!options.active()) return next(call);
      const plan = planOf(call);
      return plan === null ? next(call) : admitAndRun(call, next, plan);
    },
  };

  async function admitAndRun(call: ModelCall, next: Next, plan: AttemptPlan): Promise<ProviderResult> {
    let release: () => void;
    try {
      release = await admit(call, plan);
    } catch (error) {
      if (!isStateUnavailable(error)) throw error;
      options.onStateError?.(error, config.failMode);
      if (config.failMode === 'closed') throw error;
      return next(call);
    }
    let result: ProviderResult;
    try {
      result = await next(call);
    } catch (error) {
      release();
      throw error;
    }
    return onResultEnd(result, () => {
      release();
      takeTokens(plan, tokensOf(result.kind === 'json' ? result.usage : result.usage()));
    });
  }
}
