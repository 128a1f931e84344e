/**
 * The soft-threshold alert of a budget: once per budget, subject and period, across every replica (a
 * one-unit shared counter decides which replica sends it), when the spend reaches the threshold: a log
 * line, `modelgate_budget_alerts_total{scope}` and, when BUDGET_ALERT_WEBHOOK_URL is set, a JSON POST to it
 * (5 s timeout; a failure is logged, never retried, never fails a call).
 */
import type { Logger } from 'pino';
import type { SharedState } from '../../state/shared-state.ts';
import type { Budget } from './budget-config.ts';
import type { PeriodWindow } from './budget-period.ts';
import { nanoPerUsd } from './worst-case-cost.ts';

export interface BudgetAlertEvent {
  budget: Budget;
  subject: string;
  window: PeriodWindow;
  counterKey: string;
  spentNano: number;
  limitNano: number;
  threshold: number;
}

export interface BudgetAlerts {
  /** Called with a counter's value after it moved. */
  check(event: BudgetAlertEvent): void;
}

export interface BudgetAlertOptions {
  state: SharedState;
  logger: Logger;
  webhookUrl: string | null;
  onAlert?(budget: Budget): void;
  now?: () => number;
}

export function createBudgetAlerts(options: BudgetAlertOptions): BudgetAlerts {
  const now = options.now ?? Date.now;
  /** Counter keys already alerted (or being decided) by this replica -> end of their period. */
  const done = new Map<string, number>();
  let sweptAt = now();

  const send = async (event: BudgetAlertEvent) => {
    const payload = {
      type: 'budget.soft_threshold',
      budget_id: event.budget.id,
      budget_name: event.budget.name,
      scope: event.budget.scope,
      subject: event.subject,
      period: event.budget.period,
      period_start: new Date(event.window.start).toISOString(),
      period_end: new Date(event.window.end).toISOString(),
      limit_usd: event.limitNano / nanoPerUsd,
      spent_usd: event.spentNano / nanoPerUsd,
      threshold: event.threshold,
    };
    options.logger.warn(payload, 'budget: soft threshold reached');
    options.onAlert?.(event.budget);
    if (!options.webhookUrl) return;
    try {
      const response = await fetch(options.webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(5000),
      });
      await response.arrayBuffer();
      if (!response.ok) options.logger.warn({ status: response.status }, 'budget: the alert webhook answered with an error');
    } catch (error) {
      options.logger.warn({ reason: error instanceof Error ? error.message : String(error) }, 'budget: the alert webhook failed');
    }
  };

  return {
    check(event) {
      if (event.spentNano < event.limitNano * event.threshold || done.has(event.counterKey)) return;
      const at = now();
      if (at - sweptAt > 60_000) {
        sweptAt = at;
        for (const [key, end] of done) if (end <= at) done.delete(key);
      }
      done.set(event.counterKey, event.window.end);
      options.state
        .reserve([{ key: `alert:${event.counterKey}`, amount: 1, limit: 1 }], Math.max(60_000, event.window.end - at + 3_600_000))
        .then((result) => (result.granted ? send(event) : undefined))
        .catch((error: unknown) => {
          done.delete(event.counterKey);
          options.logger.debug({ reason: error instanceof Error ? error.message : String(error) }, 'budget: alert not decided');
        });
    },
  };
}
