/**
 * Configuration of budgets. Budgets come from config.yaml (`budgets:`), from the environment for the simple
 * cases (`BUDGET_<SCOPE>_<PERIOD>_USD`, SCOPE one of GLOBAL, KEY, USER, TEAM, PERIOD one of HOURLY, DAILY,
 * WEEKLY, MONTHLY; KEY/USER/TEAM mean each key, user or team on its own) and from the admin API
 * (`/admin/api/v1/budgets`, stored in the database). Settings: BUDGET_TIMEZONE (IANA, default UTC),
 * BUDGET_SOFT_THRESHOLD (fraction of the limit that raises an alert, default 0.8), BUDGET_ALERT_WEBHOOK_URL,
 * BUDGET_DEFAULT_MAX_OUTPUT_TOKENS (the output a call without max_tokens is assumed to produce, default 4096).
 *
 * ```yaml
 * budgets:
 *   timezone: Europe/Paris
 *   soft_threshold: 0.8
 *   alert_webhook_url: https://hooks.example.com/budget
 *   default_max_output_tokens: 4096
 *   limits:
 *     - { scope: global, limit_usd: 500, period: monthly }
 *     - { scope: team, subject: search, limit_usd: 50, period: daily }
 *     - { scope: key, subject: "*", limit_usd: 5, period: daily }      # each key on its own
 *     - { scope: tag, subject: batch, limit_usd: 10, period: custom, period_seconds: 21600 }
 * ```
 */
import { z } from 'zod';
import { ConfigError } from '../../config/config-error.ts';
import { type BudgetPeriod, budgetPeriods, calendarPeriods, isTimeZone } from './budget-period.ts';

export const budgetScopes = ['global', 'key', 'user', 'team', 'tag', 'provider'] as const;
export type BudgetScope = (typeof budgetScopes)[number];

/** One budget: at most `limitUsd` spent per period by its scope's subject (`*`: each subject on its own). */
export interface Budget {
  id: string;
  name: string | null;
  scope: BudgetScope;
  /** Key id, user, team, tag or provider name; `*` for each one separately; `*` for global. */
  subject: string;
  limitUsd: number;
  period: BudgetPeriod;
  /** Length of a custom period. */
  periodSeconds: number | null;
  /** Fraction of the limit that raises the alert; null: the configured default. */
  softThreshold: number | null;
  /** Where the budget comes from: config (config.yaml or env, read-only) or the admin API. */
  source: 'config' | 'admin';
}

export const budgetFieldsSchema = z.strictObject({
  name: z.string().max(255).nullable().optional(),
  scope: z.enum(budgetScopes),
  subject: z.string().min(1).max(255).optional().describe('Key id, user, team, tag or provider; "*" (default): each one on its own; ignored for global'),
  limit_usd: z.number().positive().max(1_000_000_000).describe('USD per period'),
  period: z.enum(budgetPeriods),
  period_seconds: z.number().int().min(60).max(31_622_400).optional().describe('Length of a custom period (60 s to 366 days)'),
  soft_threshold: z.number().gt(0).max(1).nullable().optional().describe('Fraction of the limit that raises an alert (default BUDGET_SOFT_THRESHOLD)'),
});

export type BudgetFields = z.infer<typeof budgetFieldsSchema>;

export const budgetYamlShape = {
  budgets: z
    .strictObject({
      timezone: z.string().optional(),
      soft_threshold: z.number().gt(0).max(1).optional(),
      alert_webhook_url: z.string().optional(),
      default_max_output_tokens: z.number().int().positive().max(10_000_000).optional(),
      limits: z.array(budgetFieldsSchema).optional(),
    })
    .optional(),
};

export interface BudgetConfig {
  timeZone: string;
  softThreshold: number;
  alertWebhookUrl: string | null;
  defaultMaxOutputTokens: number;
  budgets: Budget[];
}

type Env = Record<string, string | undefined>;

/** Checks what zod cannot say alone: custom periods need their length, and only they have one. */
export function checkBudgetFields(fields: BudgetFields): string | null {
  if (fields.period === 'custom' && fields.period_seconds === undefined) return "period 'custom' needs period_seconds";
  if (fields.period !== 'custom' && fields.period_seconds !== undefined) return 'period_seconds is only for the custom period';
  return null;
}

export function budgetFromFields(id: string, fields: BudgetFields, source: Budget['source']): Budget {
  return {
    id,
    name: fields.name ?? null,
    scope: fields.scope,
    subject: fields.scope === 'global' ? '*' : (fields.subject ?? '*'),
    limitUsd: fields.limit_usd,
    period: fields.period,
    periodSeconds: fields.period === 'custom' ? (fields.period_seconds ?? null) : null,
    softThreshold: fields.soft_threshold ?? null,
    source,
  };
}

function configId(fields: BudgetFields, index: number): string {
  return `config-${index}-${fields.scope}-${fields.period}`;
}

export function loadBudgetConfig(env: Env, yaml: { budgets?: z.infer<typeof budgetYamlShape.budgets> }): BudgetConfig {
  const section = yaml.budgets ?? {};
  const timeZone = env.BUDGET_TIMEZONE?.trim() || section.timezone || 'UTC';
  if (!isTimeZone(timeZone)) throw new ConfigError('BUDGET_TIMEZONE', `unknown IANA time zone '${timeZone}'`);
  const thresholdText = env.BUDGET_SOFT_THRESHOLD?.trim();
  const softThreshold = thresholdText ? Number(thresholdText) : (section.soft_threshold ?? 0.8);
  if (!(softThreshold > 0 && softThreshold <= 1)) throw new ConfigError('BUDGET_SOFT_THRESHOLD', `expected a fraction above 0 and at most 1, got '${thresholdText}'`);
  const webhook = env.BUDGET_ALERT_WEBHOOK_URL?.trim() || section.alert_webhook_url || null;
  if (webhook !== null) {
    let protocol = '';
    try {
      protocol = new URL(webhook).protocol;
    } catch {
      // reported below
    }
    if (protocol !== 'http:' && protocol !== 'https:') throw new ConfigError('BUDGET_ALERT_WEBHOOK_URL', 'expected an http:// or https:// URL');
  }
  const maxOutputText = env.BUDGET_DEFAULT_MAX_OUTPUT_TOKENS?.trim();
  const defaultMaxOutputTokens = maxOutputText ? Number(maxOutputText) : (section.default_max_output_tokens ?? 4096);
  if (!Number.isSafeInteger(defaultMaxOutputTokens) || defaultMaxOutputTokens <= 0) {
    throw new ConfigError('BUDGET_DEFAULT_MAX_OUTPUT_TOKENS', `expected a positive whole number, got '${maxOutputText}'`);
  }

  const budgets: Budget[] = [];
  (section.limits ?? []).forEach((fields, index) => {
    const problem = checkBudgetFields(fields);
    if (problem) throw new ConfigError(`budgets.limits.${index}`, problem);
    budgets.push(budgetFromFields(configId(fields, index), fields, 'config'));
  });
  for (const scope of ['GLOBAL', 'KEY', 'USER', 'TEAM'] as const) {
    for (const period of calendarPeriods) {
      const name = `BUDGET_${scope}_${period.toUpperCase()}_USD`;
      const raw = env[name]?.trim();
      if (!raw) continue;
      const limit = Number(raw);
      if (!(limit > 0) || !Number.isFinite(limit)) throw new ConfigError(name, `expected a positive amount of USD, got '${raw}'`);
      budgets.push(
        budgetFromFields(`env-${scope.toLowerCase()}-${period}`, { scope: scope.toLowerCase() as BudgetScope, limit_usd: limit, period }, 'config'),
      );
    }
  }
  return { timeZone, softThreshold, alertWebhookUrl: webhook, defaultMaxOutputTokens, budgets };
}
