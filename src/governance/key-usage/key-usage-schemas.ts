/** Schemas of a key's usage report (GET /v1/usage and GET /admin/api/v1/keys/{id}/usage); zod, in /openapi.json. */
import { z } from 'zod';
import { budgetScopes } from '../budgets/budget-config.ts';
import { budgetPeriods } from '../budgets/budget-period.ts';

export const usageTotalsSchema = z.object({
  requests: z.number().int(),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  total_tokens: z.number().int(),
  cached_tokens: z.number().int(),
  reasoning_tokens: z.number().int(),
  cache_write_tokens: z.number().int(),
  cost_usd: z.number().describe('Sum over priced calls'),
  unpriced_requests: z.number().int().describe('Calls of models without a price (cost unknown, not zero)'),
  error_requests: z.number().int(),
  average_latency_ms: z.number(),
});

export const keyBudgetSchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  scope: z.enum(budgetScopes),
  subject: z.string().describe('What the budget counts for this key: its id, user, team or tag, or "*" for global'),
  period: z.enum(budgetPeriods),
  limit_usd: z.number(),
  spent_usd: z.number().describe('Spend of the current period (settled, plus reservations in flight), by every call the budget counts'),
  remaining_usd: z.number().describe('limit_usd - spent_usd, at least 0'),
  period_start: z.string().describe('ISO 8601'),
  resets_at: z.string().describe('ISO 8601: the end of the current period, when spending starts again from 0'),
});

export const keyRateLimitSchema = z.object({
  scope: z.enum(['global', 'key', 'user', 'team']),
  subject: z.string(),
  name: z.enum(['requests_per_minute', 'requests_per_day', 'tokens_per_minute', 'tokens_per_day', 'concurrent']),
  limit: z.number().int(),
  remaining: z
    .number()
    .int()
    .describe('Units left now: requests or tokens of the window (GCRA); for concurrent, the limit minus the calls in flight'),
  resets_in_ms: z.number().nullable().describe('ms until the window is fully replenished; null for concurrent'),
});

export const keyUsageReportSchema = z.object({
  object: z.literal('usage'),
  key: z.object({
    kind: z.enum(['managed_key', 'master', 'open']),
    id: z.string().nullable().describe('The managed key id (null for the master key and open access)'),
    name: z.string().nullable(),
    user: z.string().nullable(),
    team: z.string().nullable(),
    tags: z.array(z.string()),
  }),
  start_date: z.string().describe('First day (UTC), inclusive'),
  end_date: z.string().describe('Last day (UTC), inclusive'),
  usage: usageTotalsSchema.describe("This key's calls in the range"),
  budgets: z.array(keyBudgetSchema).describe('The budgets that apply to this key, with their current period'),
  rate_limits: z
    .array(keyRateLimitSchema)
    .describe('The rate limits that apply to this key (model and provider limits are per target and not listed)'),
});

export type KeyUsageReport = z.infer<typeof keyUsageReportSchema>;
