/**
 * Which limits apply to one attempt of a call: global, the key (its own limits, else the per-key
 * defaults; managed keys only, the master key is the root), its user and team (named entries replace the
 * per-user and per-team defaults), the target's model (`provider/model` first, then the bare upstream
 * model) and the target's provider. Each limit becomes a shared-state entry whose key names its scope.
 */
import type { WindowEntry } from '../../state/shared-state.ts';
import type { ManagedKey } from '../keys/managed-key.ts';
import { isEmptyLimitSet, type LimitSet, type RateLimitConfig } from './rate-limit-config.ts';

export type LimitScope = 'global' | 'key' | 'user' | 'team' | 'model' | 'provider';

export interface ScopedLimits {
  scope: LimitScope;
  subject: string;
  limits: LimitSet;
}

export interface WindowPlan {
  scope: LimitScope;
  subject: string;
  key: string;
  limit: number;
  windowMs: number;
  kind: 'requests' | 'tokens';
  /** rpm, rpd, tpm or tpd. */
  name: string;
}

export interface AttemptPlan {
  requests: WindowPlan[];
  tokens: WindowPlan[];
  slots: { scope: LimitScope; subject: string; key: string; limit: number }[];
  /** The request windows then the token windows, as `windowEntries` lists them. */
  windows: WindowPlan[];
  /** What an admission consumes: one request from each request window, a check (cost 0) of each token window. */
  windowEntries: WindowEntry[];
}

const minute = 60_000;
const day = 86_400_000;

export function applicableLimits(
  config: RateLimitConfig,
  key: ManagedKey | undefined,
  target: { provider: string; model: string } | null,
): ScopedLimits[] {
  const found: ScopedLimits[] = [];
  const add = (scope: LimitScope, subject: string, limits: LimitSet | undefined) => {
    if (limits && !isEmptyLimitSet(limits)) found.push({ scope, subject, limits });
  };
  add('global', '*', config.global);
  if (key) {
    add('key', key.id, isEmptyLimitSet(key.rateLimits) ? config.perKey : key.rateLimits);
    if (key.user !== null) add('user', key.user, config.users[key.user] ?? config.perUser);
    if (key.team !== null) add('team', key.team, config.teams[key.team] ?? config.perTeam);
  }
  if (target) {
    const qualified = `${target.provider}/${target.model}`;
    const modelLimits = config.models[qualified];
    if (modelLimits) add('model', qualified, modelLimits);
    else add('model', target.model, config.models[target.model]);
    add('provider', target.provider, config.providers[target.provider]);
  }
  return found;
}

export function planAttempt(limits: ScopedLimits[], prefix = 'rl:'): AttemptPlan {
  const plan: AttemptPlan = { requests: [], tokens: [], slots: [], windows: [], windowEntries: [] };
  for (const { scope, subject, limits: set } of limits) {
    const base = `${prefix}${scope}:${subject}:`;
    const window = (kind: 'requests' | 'tokens', name: string, limit: number | undefined, windowMs: number) => {
      // The limit is part of the key: a changed limit starts a fresh window (GCRA state is in units of the old one).
      if (limit !== undefined) plan[kind].push({ scope, subject, key: `${base}${name}:${limit}`, limit, windowMs, kind, name });
    };
    window('requests', 'rpm', set.requestsPerMinute, minute);
    window('requests', 'rpd', set.requestsPerDay, day);
    window('tokens', 'tpm', set.tokensPerMinute, minute);
    window('tokens', 'tpd', set.tokensPerDay, day);
    // Slots are counted, not scheduled: a changed limit applies to the same count at once.
    if (set.concurrent !== undefined) plan.slots.push({ scope, subject, key: `${base}concurrent`, limit: set.concurrent });
  }
  plan.windows = [...plan.requests, ...plan.tokens];
  plan.windowEntries = plan.windows.map((window) => ({
    key: window.key,
    limit: window.limit,
    windowMs: window.windowMs,
    cost: window.kind === 'requests' ? 1 : 0,
  }));
  return plan;
}

/** Whether any limit can apply at all (else the stage is not registered). */
export function hasAnyLimit(config: RateLimitConfig): boolean {
  return (
    !isEmptyLimitSet(config.global) ||
    !isEmptyLimitSet(config.perKey) ||
    !isEmptyLimitSet(config.perUser) ||
    !isEmptyLimitSet(config.perTeam) ||
    [config.users, config.teams, config.models, config.providers].some((records) => Object.keys(records).length > 0)
  );
}
