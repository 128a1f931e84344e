/**
 * A key's usage report: its own usage totals over a date range (from the usage records), the budgets that
 * apply to it with the spend of their current period (shared-state counters, the same ones the budget
 * stage reserves on) and the rate limits that apply to it with what is left now (windows read with `peek`,
 * concurrency as the limit minus the calls holding a slot now; nothing taken). Used by GET /v1/usage (the calling key) and GET /admin/api/v1/keys/{id}/usage (the Keys page).
 * Budgets and limits of providers and models are per target and not listed.
 */
import type { UsageFilters } from '../../admin/admin-filters.ts';
import type { UsageTotals } from '../../admin/queries.ts';
import type { SharedState } from '../../state/shared-state.ts';
import type { Budget, BudgetConfig } from '../budgets/budget-config.ts';
import { applicableCounters, createWindowCache } from '../budgets/budget-stage.ts';
import { nanoPerUsd } from '../budgets/worst-case-cost.ts';
import type { ManagedKey } from '../keys/managed-key.ts';
import { limitFields, type RateLimitConfig } from '../limits/rate-limit-config.ts';
import { applicableLimits, planAttempt } from '../limits/rate-limit-plan.ts';
import type { KeyUsageReport } from './key-usage-schemas.ts';

export interface KeyUsageReportOptions {
  state: SharedState;
  budgets(): readonly Budget[];
  budgetConfig: BudgetConfig;
  rateLimits: RateLimitConfig;
  /** Usage totals of the records (flushed first). */
  summary(filters: UsageFilters): Promise<UsageTotals>;
  now?: () => number;
}

/** Who the report is for: a managed key, the master key (its record id) or open access (no key). */
export type ReportSubject = { kind: 'managed_key'; key: ManagedKey } | { kind: 'master'; recordKeyId: string } | { kind: 'open' };

const windowNames = { rpm: 'requests_per_minute', rpd: 'requests_per_day', tpm: 'tokens_per_minute', tpd: 'tokens_per_day' } as const;
const iso = (time: number) => new Date(time).toISOString();
const round = (usd: number) => Math.round(usd * 1e9) / 1e9;

export function createKeyUsageReport(options: KeyUsageReportOptions) {
  const now = options.now ?? Date.now;
  const windowOf = createWindowCache(options.budgetConfig, now);

  async function budgetsOf(key: ManagedKey | undefined): Promise<KeyUsageReport['budgets']> {
    const budgets = options.budgets().filter((budget) => budget.scope !== 'provider');
    const counters = applicableCounters(budgets, key, '', windowOf);
    if (counters.length === 0) return [];
    const values = await options.state.counters(counters.map((counter) => counter.key));
    return counters.map((counter, index) => {
      const spent = (values[index] ?? 0) / nanoPerUsd;
      return {
        id: counter.budget.id,
        name: counter.budget.name,
        scope: counter.budget.scope,
        subject: counter.subject,
        period: counter.budget.period,
        limit_usd: counter.budget.limitUsd,
        spent_usd: round(spent),
        remaining_usd: round(Math.max(0, counter.budget.limitUsd - spent)),
        period_start: iso(counter.window.start),
        resets_at: iso(counter.window.end),
      };
    });
  }

  async function rateLimitsOf(key: ManagedKey | undefined): Promise<KeyUsageReport['rate_limits']> {
    const plan = planAttempt(applicableLimits(options.rateLimits, key, null));
    const windows = [...plan.requests, ...plan.tokens];
    const peeked =
      windows.length === 0
        ? []
        : (await options.state.peek(windows.map(({ key: entry, limit, windowMs }) => ({ key: entry, limit, windowMs })))).windows;
    const listed: KeyUsageReport['rate_limits'] = windows.map((window, index) => ({
      scope: window.scope as 'global' | 'key' | 'user' | 'team',
      subject: window.subject,
      name: windowNames[window.name as keyof typeof windowNames],
      limit: window.limit,
      remaining: Math.max(0, Math.floor(peeked[index]?.remaining ?? window.limit)),
      resets_in_ms: Math.max(0, Math.ceil(peeked[index]?.resetMs ?? 0)),
    }));
    const inUse = plan.slots.length === 0 ? [] : await options.state.slots(plan.slots.map((slot) => slot.key));
    plan.slots.forEach((slot, index) => {
      listed.push({
        scope: slot.scope as 'global',
        subject: slot.subject,
        name: limitFields.concurrent,
        limit: slot.limit,
        remaining: Math.max(0, slot.limit - (inUse[index] ?? 0)),
        // A slot frees when a call ends, not at a time.
        resets_in_ms: null,
      });
    });
    return listed;
  }

  return async function report(subject: ReportSubject, range: UsageFilters['range']): Promise<KeyUsageReport> {
    const key = subject.kind === 'managed_key' ? subject.key : undefined;
    const keyId = subject.kind === 'managed_key' ? subject.key.id : subject.kind === 'master' ? subject.recordKeyId : null;
    const [usage, budgets, rateLimits] = await Promise.all([options.summary({ range, keyId }), budgetsOf(key), rateLimitsOf(key)]);
    return {
      object: 'usage',
      key: {
        kind: subject.kind,
        id: key?.id ?? null,
        name: key?.name ?? null,
        user: key?.user ?? null,
        team: key?.team ?? null,
        tags: key?.tags ?? [],
      },
      start_date: range.startDay,
      end_date: range.endDay,
      usage,
      budgets,
      rate_limits: rateLimits,
    };
  };
}

export type KeyUsageReporter = ReturnType<typeof createKeyUsageReport>;
