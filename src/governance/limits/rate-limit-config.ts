/**
 * Configuration of rate limits. Sources, later ones winning field by field: config.yaml (`rate_limits:`),
 * then the environment for the simple cases (`RATE_LIMIT_<SCOPE>_<LIMIT>` with SCOPE one of GLOBAL, KEY,
 * USER, TEAM and LIMIT one of RPM, RPD, TPM, TPD, CONCURRENT; `RATE_LIMIT_FAIL_MODE`), then a managed
 * key's own `rate_limits` (admin API), which replace the per-key defaults for that key.
 *
 * ```yaml
 * rate_limits:
 *   fail_mode: open              # open (default) | closed, when the shared state (Redis) is unreachable
 *   global: { requests_per_minute: 6000 }
 *   per_key: { requests_per_minute: 60, tokens_per_minute: 100000, concurrent: 8 }
 *   per_user: { requests_per_day: 5000 }
 *   per_team: { tokens_per_day: 5000000 }
 *   users: { alice: { requests_per_minute: 600 } }    # replaces per_user for alice
 *   teams: { search: { concurrent: 50 } }             # replaces per_team for search
 *   models: { gpt-4o: { tokens_per_minute: 30000 } }  # upstream model, or provider/model
 *   providers: { openai: { requests_per_minute: 500 } }
 * ```
 */
import { z } from 'zod';
import { ConfigError } from '../../config/config-error.ts';

export interface LimitSet {
  requestsPerMinute?: number;
  requestsPerDay?: number;
  tokensPerMinute?: number;
  tokensPerDay?: number;
  /** Requests in flight at once. */
  concurrent?: number;
}

export const limitFields = {
  requestsPerMinute: 'requests_per_minute',
  requestsPerDay: 'requests_per_day',
  tokensPerMinute: 'tokens_per_minute',
  tokensPerDay: 'tokens_per_day',
  concurrent: 'concurrent',
} as const satisfies Record<keyof LimitSet, string>;

const limitValue = z.number().int().positive().max(1_000_000_000_000);

/** A set of limits as config.yaml and the admin API write it (snake_case). */
export const limitSetSchema = z.strictObject({
  requests_per_minute: limitValue.optional().describe('Requests per minute (GCRA, a rolling minute)'),
  requests_per_day: limitValue.optional().describe('Requests per rolling 24 hours'),
  tokens_per_minute: limitValue.optional().describe('Tokens (input + output) per minute'),
  tokens_per_day: limitValue.optional().describe('Tokens (input + output) per rolling 24 hours'),
  concurrent: limitValue.optional().describe('Requests in flight at once'),
});

export type LimitSetYaml = z.infer<typeof limitSetSchema>;

export const rateLimitFailModes = ['open', 'closed'] as const;
export type RateLimitFailMode = (typeof rateLimitFailModes)[number];

export const rateLimitYamlShape = {
  rate_limits: z
    .strictObject({
      fail_mode: z.enum(rateLimitFailModes).optional(),
      global: limitSetSchema.optional(),
      per_key: limitSetSchema.optional(),
      per_user: limitSetSchema.optional(),
      per_team: limitSetSchema.optional(),
      users: z.record(z.string(), limitSetSchema).optional(),
      teams: z.record(z.string(), limitSetSchema).optional(),
      models: z.record(z.string(), limitSetSchema).optional(),
      providers: z.record(z.string(), limitSetSchema).optional(),
    })
    .optional(),
};

export interface RateLimitConfig {
  failMode: RateLimitFailMode;
  global: LimitSet;
  perKey: LimitSet;
  perUser: LimitSet;
  perTeam: LimitSet;
  users: Record<string, LimitSet>;
  teams: Record<string, LimitSet>;
  models: Record<string, LimitSet>;
  providers: Record<string, LimitSet>;
}

type Env = Record<string, string | undefined>;

export function limitSetFromYaml(yaml: LimitSetYaml | undefined): LimitSet {
  const set: LimitSet = {};
  if (!yaml) return set;
  for (const [field, name] of Object.entries(limitFields) as [keyof LimitSet, keyof LimitSetYaml][]) {
    const value = yaml[name];
    if (value !== undefined) set[field] = value;
  }
  return set;
}

export function limitSetToYaml(set: LimitSet): LimitSetYaml {
  const yaml: LimitSetYaml = {};
  for (const [field, name] of Object.entries(limitFields) as [keyof LimitSet, keyof LimitSetYaml][]) {
    const value = set[field];
    if (value !== undefined) yaml[name] = value;
  }
  return yaml;
}

export function isEmptyLimitSet(set: LimitSet): boolean {
  return Object.keys(set).length === 0;
}

const envLimits: Record<string, keyof LimitSet> = {
  RPM: 'requestsPerMinute',
  RPD: 'requestsPerDay',
  TPM: 'tokensPerMinute',
  TPD: 'tokensPerDay',
  CONCURRENT: 'concurrent',
};

function withEnv(scope: string, set: LimitSet, env: Env): LimitSet {
  const result = { ...set };
  for (const [suffix, field] of Object.entries(envLimits)) {
    const name = `RATE_LIMIT_${scope}_${suffix}`;
    const raw = env[name]?.trim();
    if (!raw) continue;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < 0) throw new ConfigError(name, `expected a whole number (0 = no limit), got '${raw}'`);
    if (value === 0) delete result[field];
    else result[field] = value;
  }
  return result;
}

function records(yaml: Record<string, LimitSetYaml> | undefined): Record<string, LimitSet> {
  const result: Record<string, LimitSet> = {};
  for (const [name, set] of Object.entries(yaml ?? {})) result[name] = limitSetFromYaml(set);
  return result;
}

export function loadRateLimitConfig(env: Env, yaml: { rate_limits?: z.infer<typeof rateLimitYamlShape.rate_limits> }): RateLimitConfig {
  const section = yaml.rate_limits ?? {};
  const failMode = env.RATE_LIMIT_FAIL_MODE?.trim().toLowerCase() || section.fail_mode || 'open';
  if (!(rateLimitFailModes as readonly string[]).includes(failMode)) {
    throw new ConfigError('RATE_LIMIT_FAIL_MODE', `expected open or closed, got '${failMode}'`);
  }
  return {
    failMode: failMode as RateLimitFailMode,
    global: withEnv('GLOBAL', limitSetFromYaml(section.global), env),
    perKey: withEnv('KEY', limitSetFromYaml(section.per_key), env),
    perUser: withEnv('USER', limitSetFromYaml(section.per_user), env),
    perTeam: withEnv('TEAM', limitSetFromYaml(section.per_team), env),
    users: records(section.users),
    teams: records(section.teams),
    models: records(section.models),
    providers: records(section.providers),
  };
}
