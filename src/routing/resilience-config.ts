/**
 * Configuration of retries, fallbacks, circuit breakers and key pools. Sources, later ones winning:
 * config.yaml (`retry:`, `circuit_breaker:`, `fallbacks:`, and per provider `api_keys:` and
 * `circuit_breaker:`), then the environment (GoModel's names: RETRY_MAX_RETRIES, RETRY_INITIAL_BACKOFF,
 * RETRY_MAX_BACKOFF, RETRY_BACKOFF_FACTOR, RETRY_JITTER_FACTOR, CIRCUIT_BREAKER_FAILURE_THRESHOLD,
 * CIRCUIT_BREAKER_SUCCESS_THRESHOLD, CIRCUIT_BREAKER_TIMEOUT; and RETRY_TOTAL_TIMEOUT,
 * STREAM_START_TIMEOUT, MODEL_FALLBACKS). Fallbacks stored through the admin API come on top at run time.
 */
import { z } from 'zod';
import { ConfigError } from '../config/config-error.ts';

type Env = Record<string, string | undefined>;

const durationValue = z.union([z.string(), z.number()]);
const numberValue = z.union([z.string(), z.number()]);

const breakerYaml = z
  .object({ failure_threshold: numberValue.optional(), success_threshold: numberValue.optional(), timeout: durationValue.optional() })
  .strict();

const fallbackListSchema = z.array(z.string().min(1).max(256)).max(32);

/** Top-level sections of config.yaml. */
export const resilienceYamlShape = {
  retry: z
    .object({
      max_retries: numberValue.optional(),
      initial_backoff: durationValue.optional(),
      max_backoff: durationValue.optional(),
      backoff_factor: numberValue.optional(),
      jitter_factor: numberValue.optional(),
      total_timeout: durationValue.optional(),
      stream_start_timeout: durationValue.optional(),
    })
    .strict()
    .optional(),
  circuit_breaker: breakerYaml.optional(),
  fallbacks: z.record(z.string().min(1).max(256), fallbackListSchema).optional(),
};

/** Keys added to each `providers.<name>` entry of config.yaml. */
export const providerResilienceYamlShape = {
  api_keys: z
    .array(z.union([z.string().min(1), z.object({ key: z.string().min(1), weight: z.number().positive().max(1000).optional() }).strict()]))
    .max(64)
    .optional(),
  circuit_breaker: breakerYaml.optional(),
};

export type ResilienceYaml = { [key in keyof typeof resilienceYamlShape]?: z.infer<(typeof resilienceYamlShape)[key]> };
export type ProviderResilienceYaml = {
  [key in keyof typeof providerResilienceYamlShape]?: z.infer<(typeof providerResilienceYamlShape)[key]>;
};

export interface RetrySettings {
  /** Retries after the first attempt; 0 switches retries off (the stage is not registered). */
  maxRetries: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  backoffFactor: number;
  jitterFactor: number;
  /** Every attempt of one request (retries and fallbacks) starts within this time. */
  totalTimeoutMs: number;
  /** How long a stream may take to send its first content before it counts as failed. */
  streamStartTimeoutMs: number;
}

export interface BreakerSettings {
  /** Consecutive failures that open the circuit; 0 switches breakers off. */
  failureThreshold: number;
  /** Successful probes in half-open state that close it again. */
  successThreshold: number;
  /** How long the circuit stays open before a probe is let through. */
  timeoutMs: number;
}

export interface WeightedKey {
  key: string;
  weight: number;
}

export interface ResilienceConfig {
  retry: RetrySettings;
  breaker: BreakerSettings;
  /** Per provider instance name. */
  providerBreakers: Record<string, BreakerSettings>;
  /** Ordered fallback models per requested model (`provider/model`, bare id, alias or virtual model). */
  fallbacks: Record<string, string[]>;
}

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style durations (`500ms`, `1s`, `1m30s`) or a plain number of seconds. */
export function parseDuration(key: string, value: string | number): number {
  if (typeof value === 'number' || /^\s*\d+(\.\d+)?\s*$/.test(value)) {
    const seconds = Number(value);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  } else {
    const text = value.trim();
    const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
    let total = 0;
    let consumed = 0;
    for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
      total += Number(match[1]) * (durationUnits[match[2] as string] as number);
      consumed = pattern.lastIndex;
    }
    if (consumed === text.length && consumed > 0) return Math.round(total);
  }
  throw new ConfigError(key, `expected a duration such as 500ms, 1s, 2m or 1m30s, got '${value}'`);
}

function parseNumber(key: string, value: string | number, min: number, max: number, integer: boolean): number {
  const number = typeof value === 'number' ? value : Number(value.trim());
  if (!Number.isFinite(number) || number < min || number > max || (integer && !Number.isInteger(number))) {
    throw new ConfigError(key, `expected ${integer ? 'an integer' : 'a number'} between ${min} and ${max}, got '${value}'`);
  }
  return number;
}

/** The environment variable when set, else the YAML value, else the default. */
function setting<T>(env: Env, envKey: string, yamlKey: string, yamlValue: string | number | undefined, fallback: T, parse: (key: string, value: string | number) => T): T {
  const fromEnv = env[envKey];
  if (fromEnv !== undefined && fromEnv !== '') return parse(envKey, fromEnv);
  if (yamlValue !== undefined && yamlValue !== '') return parse(yamlKey, yamlValue);
  return fallback;
}

function breakerSettings(env: Env | null, prefix: string, yaml: z.infer<typeof breakerYaml> | undefined, base: BreakerSettings): BreakerSettings {
  const environment = env ?? {};
  return {
    failureThreshold: setting(environment, 'CIRCUIT_BREAKER_FAILURE_THRESHOLD', `${prefix}.failure_threshold`, yaml?.failure_threshold, base.failureThreshold, (key, value) =>
      parseNumber(key, value, 0, 10_000, true),
    ),
    successThreshold: setting(environment, 'CIRCUIT_BREAKER_SUCCESS_THRESHOLD', `${prefix}.success_threshold`, yaml?.success_threshold, base.successThreshold, (key, value) =>
      parseNumber(key, value, 1, 10_000, true),
    ),
    timeoutMs: setting(environment, 'CIRCUIT_BREAKER_TIMEOUT', `${prefix}.timeout`, yaml?.timeout, base.timeoutMs, parseDuration),
  };
}

function parseFallbackJson(value: string): Record<string, string[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch (error) {
    throw new ConfigError('MODEL_FALLBACKS', `not valid JSON: ${(error as Error).message}`);
  }
  const result = z.record(z.string().min(1).max(256), fallbackListSchema).safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`MODEL_FALLBACKS.${issue?.path.join('.') ?? ''}`, `${issue?.message ?? 'invalid'} (expected {"model":["fallback-1","fallback-2"]})`);
  }
  return result.data;
}

export function loadResilienceConfig(env: Env, yaml: ResilienceYaml, providers: Record<string, ProviderResilienceYaml | undefined>): ResilienceConfig {
  const retry = yaml.retry ?? {};
  const retrySettings: RetrySettings = {
    maxRetries: setting(env, 'RETRY_MAX_RETRIES', 'retry.max_retries', retry.max_retries, 3, (key, value) => parseNumber(key, value, 0, 20, true)),
    initialBackoffMs: setting(env, 'RETRY_INITIAL_BACKOFF', 'retry.initial_backoff', retry.initial_backoff, 1000, parseDuration),
    maxBackoffMs: setting(env, 'RETRY_MAX_BACKOFF', 'retry.max_backoff', retry.max_backoff, 30_000, parseDuration),
    backoffFactor: setting(env, 'RETRY_BACKOFF_FACTOR', 'retry.backoff_factor', retry.backoff_factor, 2, (key, value) => parseNumber(key, value, 1, 100, false)),
    jitterFactor: setting(env, 'RETRY_JITTER_FACTOR', 'retry.jitter_factor', retry.jitter_factor, 0.1, (key, value) => parseNumber(key, value, 0, 1, false)),
    totalTimeoutMs: setting(env, 'RETRY_TOTAL_TIMEOUT', 'retry.total_timeout', retry.total_timeout, 120_000, parseDuration),
    streamStartTimeoutMs: setting(env, 'STREAM_START_TIMEOUT', 'retry.stream_start_timeout', retry.stream_start_timeout, 60_000, parseDuration),
  };
  if (retrySettings.maxBackoffMs < retrySettings.initialBackoffMs) {
    throw new ConfigError('RETRY_MAX_BACKOFF', `must not be below RETRY_INITIAL_BACKOFF (${retrySettings.initialBackoffMs} ms)`);
  }
  if (retrySettings.streamStartTimeoutMs <= 0) throw new ConfigError('STREAM_START_TIMEOUT', 'must be above zero');
  const defaults: BreakerSettings = { failureThreshold: 5, successThreshold: 2, timeoutMs: 30_000 };
  const breaker = breakerSettings(env, 'circuit_breaker', yaml.circuit_breaker, defaults);
  const providerBreakers: Record<string, BreakerSettings> = {};
  for (const [name, entry] of Object.entries(providers)) {
    if (entry?.circuit_breaker) providerBreakers[name] = breakerSettings(null, `providers.${name}.circuit_breaker`, entry.circuit_breaker, breaker);
  }
  const fallbacks: Record<string, string[]> = { ...(yaml.fallbacks ?? {}) };
  if (env.MODEL_FALLBACKS) Object.assign(fallbacks, parseFallbackJson(env.MODEL_FALLBACKS));
  return { retry: retrySettings, breaker, providerBreakers, fallbacks };
}

/**
 * A provider's keys: `api_keys:` (strings or {key, weight}) and the comma-separated `api_key`
 * (`OPENAI_API_KEY=k1,k2`), each key once, weight 1 unless given.
 */
export function providerKeys(apiKey: string | undefined, apiKeys: ProviderResilienceYaml['api_keys']): WeightedKey[] {
  const keys = new Map<string, number>();
  for (const entry of apiKeys ?? []) {
    if (typeof entry === 'string') keys.set(entry.trim(), 1);
    else keys.set(entry.key.trim(), entry.weight ?? 1);
  }
  for (const key of (apiKey ?? '').split(',')) {
    const trimmed = key.trim();
    if (trimmed !== '' && !keys.has(trimmed)) keys.set(trimmed, 1);
  }
  keys.delete('');
  return [...keys].map(([key, weight]) => ({ key, weight }));
}
