/** Request and response schemas of the budget admin API (zod; /openapi.json is generated from them). */
import { z } from 'zod';
import { budgetPeriods } from './budget-period.ts';
import { budgetFieldsSchema, budgetScopes } from './budget-config.ts';

export const budgetRequest = budgetFieldsSchema;

export const budgetObject = z.object({
  object: z.literal('budget'),
  id: z.string(),
  name: z.string().nullable(),
  scope: z.enum(budgetScopes),
  subject: z.string().describe('"*": each key, user, team, tag or provider on its own (global: always "*")'),
  limit_usd: z.number(),
  period: z.enum(budgetPeriods),
  period_seconds: z.number().nullable(),
  soft_threshold: z.number().describe('Fraction of the limit that raises the alert (this budget\'s or the default)'),
  source: z.enum(['config', 'admin']).describe('config: config.yaml or env (read-only); admin: this API'),
  current_period: z.object({ start: z.string(), end: z.string() }).describe('The current period in BUDGET_TIMEZONE, as UTC instants'),
  spent_usd: z.number().nullable().describe('Spend (settled, plus reservations in flight) in the current period; null for "*" subjects'),
});

export const budgetList = z.object({ object: z.literal('list'), data: z.array(budgetObject) });

export const budgetDeleted = z.object({ object: z.literal('budget.deleted'), id: z.string(), deleted: z.literal(true) });
