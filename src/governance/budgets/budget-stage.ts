/**
 * Pipeline stage `budget`: spend in USD per key, user, team, tag, provider and global, per period, on the
 * shared state's durable counters (atomic reserve/settle: a Lua script in Redis across replicas, SQLite
 * in-process when embedded).
 *
 * Per attempt (after routing resolution, so the target model's price is known): the call's worst-case cost
 * (worst-case-cost.ts) is reserved on the counter of every applicable budget's current period in one atomic
 * step, all or none; a reservation that would pass any budget refuses the call with 429 `budget_exceeded`
 * and Retry-After to that period's end. Concurrent calls reserve before any of them goes upstream, so
 * together they can never pass a budget. When the answer ends (JSON at once, a stream at its end or abort)
 * the counters are settled to the real cost from the usage; a call that failed before an answer gives its
 * reservation back; a call whose usage is unknown (a stream aborted before its usage) keeps the worst case.
 * A model without a price reserves and costs nothing (its usage is recorded as unpriced).
 * Shared state unreachable: budgets fail closed (503 `shared_state_unavailable`).
 */
import { GatewayError } from '../../core/errors.ts';
import type { Usage } from '../../core/usage.ts';
import type { ModelCall } from '../../pipeline/model-call.ts';
import type { Next, Stage } from '../../pipeline/stage.ts';
import { onResultEnd } from '../../pipeline/stream-end.ts';
import type { ProviderResult } from '../../providers/types.ts';
import { isStateUnavailable, type SharedState } from '../../state/shared-state.ts';
import { computeCost, type ModelPrice, type PricingTable } from '../../usage/pricing.ts';
import type { ManagedKey } from '../keys/managed-key.ts';
import type { BudgetAlerts } from './budget-alerts.ts';
import type { Budget, BudgetConfig } from './budget-config.ts';
import { type PeriodWindow, periodWindow } from './budget-period.ts';
import { nanoPerUsd, usdToNano, worstCaseNano } from './worst-case-cost.ts';

export interface BudgetStageOptions {
  config: BudgetConfig;
  state: SharedState;
  pricing: PricingTable;
  budgets(): readonly Budget[];
  keyOf(keyId: string | null): ManagedKey | undefined;
  alerts: BudgetAlerts;
  now?: () => number;
  onStateError?(error: unknown): void;
  onRefused?(budget: Budget): void;
}

export interface BudgetCounter {
  budget: Budget;
  subject: string;
  window: PeriodWindow;
  key: string;
  limitNano: number;
}

/** The subjects a budget applies to for this key and target (none when it does not apply). */
function subjectsOf(budget: Budget, key: ManagedKey | undefined, provider: string): string[] {
  const pick = (value: string | null) => (value !== null && (budget.subject === '*' || budget.subject === value) ? [value] : []);
  switch (budget.scope) {
    case 'global':
      return ['*'];
    case 'provider':
      return pick(provider);
    case 'key':
      return key ? pick(key.id) : [];
    case 'user':
      return key ? pick(key.user) : [];
    case 'team':
      return key ? pick(key.team) : [];
    case 'tag':
      return key ? key.tags.filter((tag) => budget.subject === '*' || budget.subject === tag) : [];
  }
}

export function counterKey(budget: Budget, subject: string, window: PeriodWindow): string {
  return `budget:${budget.id}:${budget.scope}:${subject}:${window.start}`;
}

/** Period windows, recomputed only when the period they hold is over. */
export function createWindowCache(config: BudgetConfig, now: () => number) {
  const windows = new Map<string, PeriodWindow>();
  return (budget: Budget): PeriodWindow => {
    const at = now();
    const name = budget.period === 'custom' ? `custom:${budget.periodSeconds ?? 0}` : budget.period;
    let window = windows.get(name);
    if (!window || at >= window.end || at < window.start) {
      window = periodWindow(budget.period, at, config.timeZone, budget.periodSeconds ?? 0);
      windows.set(name, window);
    }
    return window;
  };
}

export function applicableCounters(
  budgets: readonly Budget[],
  key: ManagedKey | undefined,
  provider: string,
  windowOf: (budget: Budget) => PeriodWindow,
): BudgetCounter[] {
  const counters: BudgetCounter[] = [];
  for (const budget of budgets) {
    for (const subject of subjectsOf(budget, key, provider)) {
      const window = windowOf(budget);
      counters.push({ budget, subject, window, key: counterKey(budget, subject, window), limitNano: usdToNano(budget.limitUsd) });
    }
  }
  return counters;
}

/** Counter lists kept per key and provider at most (then all are dropped and made again as calls come). */
const maxCounterSets = 10_000;

const usd = (nano: number) => `$${(nano / nanoPerUsd).toFixed(nano < 10 * nanoPerUsd ? 6 : 2)}`;

function describe(counter: BudgetCounter): string {
  const { budget, subject } = counter;
  if (budget.scope === 'global') return 'The gateway';
  if (budget.scope === 'key') return 'This API key';
  return `${budget.scope[0]?.toUpperCase()}${budget.scope.slice(1)} '${subject}'`;
}

export function createBudgetStage(options: BudgetStageOptions): Stage {
  const { config, state, pricing, alerts } = options;
  const now = options.now ?? Date.now;
  const windowOf = createWindowCache(config, now);

  /** A day past the latest period end of the counters. */
  const ttlOf = (counters: BudgetCounter[]) => {
    let end = 0;
    for (const counter of counters) end = Math.max(end, counter.window.end);
    return end - now() + 86_400_000;
  };

  /**
   * `keyId\0provider` -> the counters of that key (the object they were made for: an updated key is a new
   * object) and provider, for the budget list and period windows they were made from.
   */
  const counterSets = new Map<string, { budgets: readonly Budget[]; key: ManagedKey | undefined; counters: BudgetCounter[] }>();
  const countersOf = (budgets: readonly Budget[], call: ModelCall, provider: string): BudgetCounter[] => {
    const key = options.keyOf(call.request.keyId);
    const name = `${call.request.keyId ?? ''}\u0000${provider}`;
    const known = counterSets.get(name);
    if (
      known &&
      known.budgets === budgets &&
      known.key === key &&
      known.counters.every((counter) => counter.window === windowOf(counter.budget))
    )
      return known.counters;
    const counters = applicableCounters(budgets, key, provider, windowOf);
    if (counterSets.size >= maxCounterSets) counterSets.clear();
    counterSets.set(name, { budgets, key, counters });
    return counters;
  };

  const settle = (counters: BudgetCounter[], delta: number) => {
    state
      .settle(
        counters.map((counter) => ({ key: counter.key, delta })),
        ttlOf(counters),
      )
      .then((totals) => {
        counters.forEach((counter, index) => {
          alerts.check({
            budget: counter.budget,
            subject: counter.subject,
            window: counter.window,
            counterKey: counter.key,
            spentNano: totals[index] ?? 0,
            limitNano: counter.limitNano,
            threshold: counter.budget.softThreshold ?? config.softThreshold,
          });
        });
      })
      .catch((error: unknown) => options.onStateError?.(error));
  };

  const realCost = (price: ModelPrice | null, usage: Usage | null, reserved: number): number => {
    if (!price) return 0;
    if (!usage) return reserved;
    return Math.ceil(computeCost(usage, price) * nanoPerUsd);
  };

  return {
    name: 'budget',
    handle(call, next) {
      const budgets = options.budgets();
      // No budget, or a workflow switched budgets off for this call: straight through, without a promise of this stage's own.
      if (budgets.length === 0 || !call.target || call.trace.policy?.budget === false) return next(call);
      const counters = countersOf(budgets, call, call.target.provider.name);
      if (counters.length === 0) return next(call);
      return reserveAndRun(call, next, counters);
    },
  };

  async function reserveAndRun(call: ModelCall, next: Next, counters: BudgetCounter[]): Promise<ProviderResult> {
    const target = call.target as NonNullable<ModelCall['target']>;
    const price = pricing.priceOf(target.model, target.provider.name);
    const reserved = price ? worstCaseNano(call, price, config.defaultMaxOutputTokens) : 0;
    let result: Awaited<ReturnType<SharedState['reserve']>>;
    try {
      result = await state.reserve(
        counters.map((counter) => ({ key: counter.key, amount: reserved, limit: counter.limitNano })),
        ttlOf(counters),
      );
    } catch (error) {
      if (isStateUnavailable(error)) options.onStateError?.(error);
      throw error;
    }
    if (!result.granted) {
      const index = result.refusedIndex ?? 0;
      const counter = counters[index] as BudgetCounter;
      options.onRefused?.(counter.budget);
      const spent = result.totals[index] ?? 0;
      const seconds = Math.max(1, Math.ceil((counter.window.end - now()) / 1000));
      throw new GatewayError(
        `Budget exceeded: ${describe(counter)} has spent ${usd(spent)} of its ${usd(counter.limitNano)} ${counter.budget.period} budget ` +
          `and this call may cost up to ${usd(reserved)}; the period ends at ${new Date(counter.window.end).toISOString()}`,
        { status: 429, code: 'budget_exceeded', type: 'rate_limit_error', retryable: false, headers: { 'retry-after': String(seconds) } },
      );
    }
    let answer: ProviderResult;
    try {
      answer = await next(call);
    } catch (error) {
      if (reserved > 0) settle(counters, -reserved);
      throw error;
    }
    return onResultEnd(answer, () => {
      const usage = answer.kind === 'json' ? answer.usage : answer.usage();
      const delta = realCost(price, usage, reserved) - reserved;
      if (delta !== 0 || reserved > 0) settle(counters, delta);
    });
  }
}
