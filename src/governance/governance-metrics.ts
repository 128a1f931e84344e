/**
 * Metrics of rate limits and budgets (registered at /metrics by the metrics extension):
 * - modelgate_rate_limit_refusals_total{scope,kind}: calls refused by a rate limit (kind requests, tokens, concurrent)
 * - modelgate_governance_state_errors_total{feature}: calls that met an unreachable shared state (rate_limit, budget)
 * - modelgate_budget_refusals_total{scope}: calls refused because a budget would be passed
 * - modelgate_budget_alerts_total{scope}: budgets that crossed their soft threshold in a period
 */
import { Counter } from 'prom-client';

export interface GovernanceMetrics {
  rateLimitRefusals: Counter<'scope' | 'kind'>;
  stateErrors: Counter<'feature'>;
  budgetRefusals: Counter<'scope'>;
  budgetAlerts: Counter<'scope'>;
  all(): Counter<string>[];
}

export function createGovernanceMetrics(): GovernanceMetrics {
  const rateLimitRefusals = new Counter({
    name: 'modelgate_rate_limit_refusals_total',
    help: 'Calls refused by a rate limit, by scope (global, key, user, team, model, provider) and kind (requests, tokens, concurrent)',
    labelNames: ['scope', 'kind'] as const,
    registers: [],
  });
  const stateErrors = new Counter({
    name: 'modelgate_governance_state_errors_total',
    help: 'Calls that met an unreachable shared state (Redis), by feature (rate_limit, budget)',
    labelNames: ['feature'] as const,
    registers: [],
  });
  const budgetRefusals = new Counter({
    name: 'modelgate_budget_refusals_total',
    help: 'Calls refused because their worst-case cost would pass a budget, by scope',
    labelNames: ['scope'] as const,
    registers: [],
  });
  const budgetAlerts = new Counter({
    name: 'modelgate_budget_alerts_total',
    help: 'Budgets whose spend crossed their soft threshold in a period, by scope',
    labelNames: ['scope'] as const,
    registers: [],
  });
  return {
    rateLimitRefusals,
    stateErrors,
    budgetRefusals,
    budgetAlerts,
    all: () => [rateLimitRefusals, stateErrors, budgetRefusals, budgetAlerts] as Counter<string>[],
  };
}
