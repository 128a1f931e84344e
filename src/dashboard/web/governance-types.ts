/** Shapes of the managed-key and budget admin API (see /openapi.json: api_key, budget). */

export interface RateLimits {
  requests_per_minute?: number;
  requests_per_day?: number;
  tokens_per_minute?: number;
  tokens_per_day?: number;
  concurrent?: number;
}

export interface ManagedKey {
  id: string;
  name: string | null;
  key_hint: string;
  status: 'active' | 'deactivated' | 'expired' | 'revoked';
  scopes: string[];
  allowed_models: string[];
  denied_models: string[];
  user: string | null;
  team: string | null;
  tags: string[];
  rate_limits: RateLimits;
  active: boolean;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_rotated_at: string | null;
}

export interface Budget {
  id: string;
  name: string | null;
  scope: 'global' | 'key' | 'user' | 'team' | 'tag' | 'provider';
  subject: string;
  limit_usd: number;
  period: string;
  source: 'config' | 'admin';
  current_period: { start: string; end: string };
  spent_usd: number | null;
}

export const budgetScopes = ['global', 'key', 'user', 'team', 'tag', 'provider'] as const;
export const budgetPeriods = ['hourly', 'daily', 'weekly', 'monthly'] as const;

/** Splits "a, b c" into ["a", "b", "c"]. */
export function listOf(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter(Boolean);
}
