/**
 * Configuration: environment first, optional config.yaml (with ${VAR} and ${VAR:-default}
 * expansion), environment wins. Invalid configuration fails at start with a message naming the key.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { providerTypeNames } from '../providers/all-provider-types.ts';
import {
  loadResilienceConfig,
  providerKeys,
  providerResilienceYamlShape,
  type ResilienceConfig,
  resilienceYamlShape,
  type WeightedKey,
} from '../routing/resilience-config.ts';
import { readStateConfig, type StateConfig } from '../state/state-config.ts';
import { type HttpLimitsConfig, loadHttpLimitsConfig } from '../http/http-limits-config.ts';
import { type CacheConfig, readCacheConfig } from '../cache/cache-config.ts';
import { defaultJournalMaxBytes } from '../storage/batch-writer.ts';
import { loadRoutingConfig, type RoutingConfig, routingYamlShape } from '../routing/routing-config.ts';
import { ConfigError } from './config-error.ts';
import { type GuardrailsConfig, guardrailsYamlSchema, loadGuardrailsConfig } from '../guardrails/guardrails-config.ts';
import { loadWorkflowsConfig, type WorkflowsConfig, workflowsYamlSchema } from '../workflows/workflow-config.ts';
import { type FilesConfig, loadFilesConfig } from '../files/files-config.ts';
import { type DashboardConfig, loadDashboardConfig } from '../dashboard/dashboard-config.ts';
import { loadRateLimitConfig, type RateLimitConfig, rateLimitYamlShape } from '../governance/limits/rate-limit-config.ts';
import { type BudgetConfig, budgetYamlShape, loadBudgetConfig } from '../governance/budgets/budget-config.ts';
import { defaultPassthroughProviders, type PassthroughConfig, passthroughYamlSchema } from '../passthrough/passthrough-config.ts';

export { ConfigError };

export interface ProviderConfig {
  name: string;
  type: string;
  apiKey?: string;
  /** Key pool (`OPENAI_API_KEY=k1,k2`, `api_keys:`), when there are several keys; `apiKey` is then the first. */
  apiKeys?: WeightedKey[];
  baseUrl?: string;
  models?: string[];
  apiVersion?: string;
  headers?: Record<string, string>;
}

export interface GatewayConfig {
  port: number;
  host: string;
  masterKey: string | undefined;
  allowUnauthenticated: boolean;
  bodyLimitBytes: number;
  /** REQUEST_TIMEOUT_MS, MAX_CONNECTIONS, MAX_JSON_DEPTH (src/http/http-limits-config.ts). */
  httpLimits: HttpLimitsConfig;
  logLevel: string;
  upstream: {
    headersTimeoutMs: number;
    bodyTimeoutMs: number;
    connectTimeoutMs: number;
    /** Bounds of every upstream call (see README, "Upstream limits"). */
    maxResponseBytes: number;
    maxEventBytes: number;
    totalTimeoutMs: number;
  };
  modelsRefreshSeconds: number;
  providers: ProviderConfig[];
  storage: {
    type: 'sqlite' | 'postgresql';
    sqlitePath: string;
    postgresUrl: string | undefined;
    /** POSTGRES_SCHEMA: schema for the tables (created when missing); default the connection's search_path. */
    postgresSchema: string | undefined;
    /** STORAGE_SPILL_DIR: where records go when the write buffer is full (default: next to the SQLite file). */
    spillDir: string;
    /** STORAGE_JOURNAL_MAX_BYTES: cap of each record kind's write-ahead journal (in the spill directory); 0 turns it off. */
    journalMaxBytes: number;
  };
  usage: { enabled: boolean };
  /** Shared state of replicas: REDIS_URL, REDIS_KEY_PREFIX, STATE_SQLITE_PATH. */
  state: StateConfig;
  /** Response cache (src/cache/cache-config.ts). */
  cache: CacheConfig;
  logging: {
    enabled: boolean;
    logBodies: boolean;
    logHeaders: boolean;
    retentionDays: number;
    maxBodyBytes: number;
  };
  /** USD per million tokens, keyed by `provider/model` or bare model. */
  pricing: Record<string, PriceOverride>;
  /** Aliases, virtual models, model access (src/routing/routing-config.ts). */
  routing: RoutingConfig;
  /** Retries, fallbacks, circuit breakers (src/routing/resilience-config.ts). */
  resilience: ResilienceConfig;
  passthrough: PassthroughConfig;
  /** GUARDRAILS_ENABLED and the `guardrails:` rules (src/guardrails/guardrails-config.ts). */
  guardrails: GuardrailsConfig;
  /** The `workflows:` section and WORKFLOWS_REFRESH_SECONDS (src/workflows/workflow-config.ts). */
  workflows: WorkflowsConfig;
  /** Rate limits (src/governance/limits/rate-limit-config.ts). */
  rateLimits: RateLimitConfig;
  /** Files and Batches APIs (src/files/files-config.ts). */
  files: FilesConfig;
  /** ADMIN_UI_ENABLED (src/dashboard/dashboard-config.ts). */
  dashboard: DashboardConfig;
  /** Budgets (src/governance/budgets/budget-config.ts). */
  budgets: BudgetConfig;
  configFile: string | undefined;
}

export interface PriceOverride {
  input?: number;
  output?: number;
  cachedInput?: number;
  cacheWrite?: number;
}

type Env = Record<string, string | undefined>;

const sizeUnits: Record<string, number> = { b: 1, kb: 1024, k: 1024, mb: 1024 ** 2, m: 1024 ** 2, gb: 1024 ** 3, g: 1024 ** 3 };

export function parseSize(key: string, value: string | number): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value > 0) return value;
    throw new ConfigError(key, `expected a positive size, got ${value}`);
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = match?.[2]?.toLowerCase() ?? '';
  const multiplier = sizeUnits[unit === '' ? 'b' : unit];
  if (!match || multiplier === undefined) {
    throw new ConfigError(key, `expected a size such as 10485760, 512KB or 10MB, got '${value}'`);
  }
  const bytes = Math.floor(Number(match[1]) * multiplier);
  if (bytes <= 0) throw new ConfigError(key, `expected a positive size, got '${value}'`);
  return bytes;
}

function parseInteger(key: string, value: string | number, min: number, max: number): number {
  const number = typeof value === 'number' ? value : Number(value.trim());
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new ConfigError(key, `expected an integer between ${min} and ${max}, got '${value}'`);
  }
  return number;
}

export function parseBoolean(key: string, value: string | boolean): boolean {
  if (typeof value === 'boolean') return value;
  const normalized = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(normalized)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(normalized)) return false;
  throw new ConfigError(key, `expected true or false, got '${value}'`);
}

function parseList(value: string | string[]): string[] {
  const items = Array.isArray(value) ? value : value.split(',');
  return items.map((item) => item.trim()).filter((item) => item.length > 0);
}

/** Expands ${VAR} and ${VAR:-default} in every string of a parsed YAML document. */
export function expandVariables(value: unknown, env: Env): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_match, name: string, fallback?: string) => {
      const found = env[name];
      return found !== undefined && found !== '' ? found : (fallback ?? '');
    });
  }
  if (Array.isArray(value)) return value.map((item) => expandVariables(item, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, expandVariables(item, env)]));
  }
  return value;
}

const yamlSchema = z
  .object({
    server: z
      .object({
        port: z.union([z.string(), z.number()]).optional(),
        host: z.string().optional(),
        master_key: z.string().optional(),
        allow_unauthenticated: z.union([z.string(), z.boolean()]).optional(),
        body_size_limit: z.union([z.string(), z.number()]).optional(),
        log_level: z.string().optional(),
      })
      .strict()
      .optional(),
    upstream: z
      .object({
        timeout_ms: z.union([z.string(), z.number()]).optional(),
        headers_timeout_ms: z.union([z.string(), z.number()]).optional(),
        connect_timeout_ms: z.union([z.string(), z.number()]).optional(),
        max_response_bytes: z.union([z.string(), z.number()]).optional(),
        max_event_bytes: z.union([z.string(), z.number()]).optional(),
        total_timeout_ms: z.union([z.string(), z.number()]).optional(),
        models_refresh_seconds: z.union([z.string(), z.number()]).optional(),
      })
      .strict()
      .optional(),
    providers: z
      .record(
        z.string(),
        z
          .object({
            type: z.string(),
            api_key: z.string().optional(),
            base_url: z.string().optional(),
            models: z.union([z.array(z.string()), z.string()]).optional(),
            api_version: z.string().optional(),
            headers: z.record(z.string(), z.string()).optional(),
            ...providerResilienceYamlShape,
          })
          .strict(),
      )
      .optional(),
    storage: z
      .object({
        type: z.string().optional(),
        sqlite_path: z.string().optional(),
        postgres_url: z.string().optional(),
      })
      .strict()
      .optional(),
    usage: z.object({ enabled: z.union([z.string(), z.boolean()]).optional() }).strict().optional(),
    logging: z
      .object({
        enabled: z.union([z.string(), z.boolean()]).optional(),
        log_bodies: z.union([z.string(), z.boolean()]).optional(),
        log_headers: z.union([z.string(), z.boolean()]).optional(),
        retention_days: z.union([z.string(), z.number()]).optional(),
        max_body_bytes: z.union([z.string(), z.number()]).optional(),
      })
      .strict()
      .optional(),
    pricing: z
      .record(
        z.string(),
        z
          .object({
            input: z.number().nonnegative().optional(),
            output: z.number().nonnegative().optional(),
            cached_input: z.number().nonnegative().optional(),
            cache_write: z.number().nonnegative().optional(),
          })
          .strict(),
      )
      .optional(),
    ...routingYamlShape,
    ...resilienceYamlShape,
    ...rateLimitYamlShape,
    ...budgetYamlShape,
    passthrough: passthroughYamlSchema,
    guardrails: guardrailsYamlSchema,
    workflows: workflowsYamlSchema,
  })
  .strict();

type YamlConfig = z.infer<typeof yamlSchema>;

function readYaml(path: string, env: Env): YamlConfig {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(path, `cannot read YAML: ${(error as Error).message}`);
  }
  if (raw === null || raw === undefined) return {};
  const result = yamlSchema.safeParse(expandVariables(raw, env));
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = issue?.path.join('.') || '(root)';
    const unknownKeys = issue && 'keys' in issue ? ` (${(issue.keys as string[]).join(', ')})` : '';
    throw new ConfigError(`${path}: ${key}`, `${issue?.message ?? 'invalid'}${unknownKeys}`);
  }
  return result.data;
}

/** Picks the first defined, non-empty value. */
function pick<T>(...values: (T | undefined | '')[]): T | undefined {
  for (const value of values) if (value !== undefined && value !== '') return value as T;
  return undefined;
}

const builtInBaseUrlEnv = (type: string) => `${type.toUpperCase()}_BASE_URL`;

/** Providers declared through environment variables. */
export function providersFromEnv(env: Env): ProviderConfig[] {
  const providers = new Map<string, ProviderConfig>();
  const types = providerTypeNames();
  const ensure = (name: string, type: string): ProviderConfig => {
    let provider = providers.get(name);
    if (!provider) {
      provider = { name, type };
      providers.set(name, provider);
    }
    return provider;
  };
  for (const type of types) {
    const upper = type.toUpperCase();
    const apiKey = pick(env[`${upper}_API_KEY`], type === 'azure' ? env.AZURE_OPENAI_API_KEY : undefined);
    const baseUrl = pick(env[builtInBaseUrlEnv(type)], type === 'azure' ? env.AZURE_OPENAI_ENDPOINT : undefined);
    const keyless = type === 'ollama';
    if (apiKey === undefined && !(keyless && baseUrl !== undefined)) continue;
    const provider = ensure(type, type);
    if (apiKey !== undefined) provider.apiKey = apiKey;
    if (baseUrl !== undefined) provider.baseUrl = baseUrl;
    const models = env[`${upper}_MODELS`];
    if (models) provider.models = parseList(models);
    const apiVersion = env[`${upper}_API_VERSION`];
    if (apiVersion) provider.apiVersion = apiVersion;
  }
  // Named instances: <TYPE>_<SUFFIX>_API_KEY (or _BASE_URL for keyless types), e.g. OPENAI_VLLM_API_KEY.
  const typePattern = types.map((type) => type.toUpperCase()).join('|');
  const named = new RegExp(`^(${typePattern})_([A-Z0-9]+(?:_[A-Z0-9]+)*?)_(API_KEY|BASE_URL)$`);
  for (const [variable, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    const match = named.exec(variable);
    if (!match) continue;
    const [, upperType = '', suffix = '', field] = match;
    const type = upperType.toLowerCase();
    if (suffix === 'OPENAI' && type === 'azure') continue; // AZURE_OPENAI_API_KEY is Azure's own alias
    if (field === 'BASE_URL' && type !== 'ollama' && env[`${upperType}_${suffix}_API_KEY`] === undefined) continue;
    const name = `${type}-${suffix.toLowerCase().replaceAll('_', '-')}`;
    const provider = ensure(name, type);
    const prefix = `${upperType}_${suffix}`;
    const apiKey = env[`${prefix}_API_KEY`];
    if (apiKey) provider.apiKey = apiKey;
    const baseUrl = env[`${prefix}_BASE_URL`];
    if (baseUrl) provider.baseUrl = baseUrl;
    const models = env[`${prefix}_MODELS`];
    if (models) provider.models = parseList(models);
    const apiVersion = env[`${prefix}_API_VERSION`];
    if (apiVersion) provider.apiVersion = apiVersion;
  }
  const openrouter = providers.get('openrouter');
  if (openrouter) {
    const headers: Record<string, string> = {};
    const referer = pick(env.OPENROUTER_SITE_URL, env.OPENROUTER_HTTP_REFERER);
    const title = pick(env.OPENROUTER_APP_NAME, env.OPENROUTER_X_TITLE);
    if (referer) headers['HTTP-Referer'] = referer;
    if (title) headers['X-Title'] = title;
    if (Object.keys(headers).length > 0) openrouter.headers = headers;
  }
  return [...providers.values()];
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

export function loadConfig(env: Env = process.env, cwd = process.cwd()): GatewayConfig {
  const explicitFile = env.MODELGATE_CONFIG;
  const defaultFile = `${cwd}/config.yaml`;
  let configFile: string | undefined;
  if (explicitFile) {
    if (!existsSync(explicitFile)) throw new ConfigError('MODELGATE_CONFIG', `file not found: ${explicitFile}`);
    configFile = explicitFile;
  } else if (existsSync(defaultFile)) {
    configFile = defaultFile;
  }
  const yaml: YamlConfig = configFile ? readYaml(configFile, env) : {};
  const server = yaml.server ?? {};

  const portValue = pick<string | number>(env.PORT, server.port) ?? 8080;
  const port = parseInteger(env.PORT ? 'PORT' : 'server.port', portValue, 0, 65535);
  const masterKey = pick(env.MODELGATE_MASTER_KEY, server.master_key);
  const allowValue = pick<string | boolean>(env.MODELGATE_ALLOW_UNAUTHENTICATED, server.allow_unauthenticated);
  const allowUnauthenticated =
    allowValue === undefined ? false : parseBoolean('MODELGATE_ALLOW_UNAUTHENTICATED', allowValue);
  const explicitHost = pick(env.HOST, server.host);
  const host = explicitHost ?? (masterKey ? '0.0.0.0' : '127.0.0.1');
  if (!masterKey && !allowUnauthenticated && !isLoopback(host)) {
    throw new ConfigError(
      env.HOST ? 'HOST' : 'server.host',
      `'${host}' is reachable from other machines but MODELGATE_MASTER_KEY is not set. ` +
        'Set MODELGATE_MASTER_KEY, or MODELGATE_ALLOW_UNAUTHENTICATED=true to serve without authentication.',
    );
  }
  const bodyValue = pick<string | number>(env.BODY_SIZE_LIMIT, server.body_size_limit) ?? '10MB';
  const bodyLimitBytes = parseSize(env.BODY_SIZE_LIMIT ? 'BODY_SIZE_LIMIT' : 'server.body_size_limit', bodyValue);

  const upstream = yaml.upstream ?? {};
  const timeoutValue = pick<string | number>(env.UPSTREAM_TIMEOUT_MS, upstream.timeout_ms) ?? 600_000;
  const bodyTimeoutMs = parseInteger('UPSTREAM_TIMEOUT_MS', timeoutValue, 1, 86_400_000);
  const headersValue = pick<string | number>(env.UPSTREAM_HEADERS_TIMEOUT_MS, upstream.headers_timeout_ms) ?? bodyTimeoutMs;
  const headersTimeoutMs = parseInteger('UPSTREAM_HEADERS_TIMEOUT_MS', headersValue, 1, 86_400_000);
  const connectValue = pick<string | number>(env.UPSTREAM_CONNECT_TIMEOUT_MS, upstream.connect_timeout_ms) ?? 10_000;
  const connectTimeoutMs = parseInteger('UPSTREAM_CONNECT_TIMEOUT_MS', connectValue, 1, 600_000);
  // Defaults and their reasons: README, "Upstream limits".
  const maxResponseValue = pick<string | number>(env.UPSTREAM_MAX_RESPONSE_BYTES, upstream.max_response_bytes) ?? '64MB';
  const maxResponseBytes = parseSize('UPSTREAM_MAX_RESPONSE_BYTES', maxResponseValue);
  const maxEventValue = pick<string | number>(env.UPSTREAM_MAX_EVENT_BYTES, upstream.max_event_bytes) ?? '16MB';
  const maxEventBytes = parseSize('UPSTREAM_MAX_EVENT_BYTES', maxEventValue);
  const totalValue = pick<string | number>(env.UPSTREAM_TOTAL_TIMEOUT_MS, upstream.total_timeout_ms) ?? 3_600_000;
  const totalTimeoutMs = parseInteger('UPSTREAM_TOTAL_TIMEOUT_MS', totalValue, 1, 86_400_000);
  const refreshValue = pick<string | number>(env.MODELS_REFRESH_SECONDS, upstream.models_refresh_seconds) ?? 3600;
  const modelsRefreshSeconds = parseInteger('MODELS_REFRESH_SECONDS', refreshValue, 0, 604_800);

  // Providers: YAML first, then environment providers override fields of the same name.
  const providers = new Map<string, ProviderConfig>();
  const knownTypes = new Set(providerTypeNames());
  for (const [name, entry] of Object.entries(yaml.providers ?? {})) {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) {
      throw new ConfigError(`providers.${name}`, 'provider names use lowercase letters, digits, dot, dash, underscore');
    }
    if (!knownTypes.has(entry.type)) {
      throw new ConfigError(`providers.${name}.type`, `unknown type '${entry.type}'; known: ${[...knownTypes].join(', ')}`);
    }
    const provider: ProviderConfig = { name, type: entry.type };
    if (entry.api_key) provider.apiKey = entry.api_key;
    if (entry.base_url) provider.baseUrl = entry.base_url;
    if (entry.models) provider.models = parseList(entry.models);
    if (entry.api_version) provider.apiVersion = entry.api_version;
    if (entry.headers) provider.headers = entry.headers;
    providers.set(name, provider);
  }
  const envProviders = providersFromEnv(env);
  for (const fromEnv of envProviders) {
    const existing = providers.get(fromEnv.name);
    providers.set(fromEnv.name, existing ? { ...existing, ...fromEnv } : fromEnv);
  }
  const keyedByEnv = new Set(envProviders.filter((provider) => provider.apiKey !== undefined).map((provider) => provider.name));
  for (const provider of providers.values()) {
    const keys = providerKeys(provider.apiKey, keyedByEnv.has(provider.name) ? undefined : yaml.providers?.[provider.name]?.api_keys);
    if (keys.length > 0) provider.apiKey = keys[0]?.key as string;
    if (keys.length > 1) provider.apiKeys = keys;
  }
  for (const provider of providers.values()) {
    if (provider.baseUrl !== undefined) {
      try {
        const url = new URL(provider.baseUrl);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
      } catch {
        throw new ConfigError(`${provider.name}.base_url`, `not an http(s) URL: '${provider.baseUrl}'`);
      }
    }
  }

  const storage = yaml.storage ?? {};
  const storageType = (pick(env.STORAGE_TYPE, storage.type) ?? 'sqlite').toLowerCase();
  const normalizedStorage = storageType === 'postgres' ? 'postgresql' : storageType;
  if (normalizedStorage !== 'sqlite' && normalizedStorage !== 'postgresql') {
    throw new ConfigError('STORAGE_TYPE', `expected sqlite or postgresql, got '${storageType}'`);
  }
  const postgresUrl = pick(env.POSTGRES_URL, env.DATABASE_URL, storage.postgres_url);
  if (normalizedStorage === 'postgresql' && !postgresUrl) {
    throw new ConfigError('POSTGRES_URL', 'required when STORAGE_TYPE=postgresql');
  }
  const sqlitePath = pick(env.SQLITE_PATH, storage.sqlite_path) ?? 'data/modelgate.db';
  const postgresSchema = pick(env.POSTGRES_SCHEMA);
  if (postgresSchema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(postgresSchema)) {
    throw new ConfigError('POSTGRES_SCHEMA', `expected a plain identifier (letters, digits, underscore), got '${postgresSchema}'`);
  }
  const spillDir = pick(env.STORAGE_SPILL_DIR) ?? `${sqlitePath.includes('/') ? sqlitePath.slice(0, sqlitePath.lastIndexOf('/')) : '.'}/spill`;
  const journalValue = pick(env.STORAGE_JOURNAL_MAX_BYTES);
  // An in-memory SQLite database loses its records at exit anyway: no journal unless asked for.
  const journalDefault = normalizedStorage === 'sqlite' && sqlitePath === ':memory:' ? 0 : defaultJournalMaxBytes;
  const journalMaxBytes =
    journalValue === undefined ? journalDefault : journalValue.trim() === '0' ? 0 : parseSize('STORAGE_JOURNAL_MAX_BYTES', journalValue);

  const usageSection = yaml.usage ?? {};
  const usageValue = pick<string | boolean>(env.USAGE_ENABLED, usageSection.enabled);
  const logging = yaml.logging ?? {};
  const boolSetting = (envKey: string, yamlValue: string | boolean | undefined, fallback: boolean): boolean => {
    const value = pick<string | boolean>(env[envKey], yamlValue);
    return value === undefined ? fallback : parseBoolean(envKey, value);
  };
  const retentionValue = pick<string | number>(env.LOGGING_RETENTION_DAYS, logging.retention_days) ?? 30;
  const maxBodyValue = pick<string | number>(env.LOGGING_MAX_BODY_BYTES, logging.max_body_bytes) ?? 65_536;

  const pricing: Record<string, PriceOverride> = {};
  for (const [model, price] of Object.entries(yaml.pricing ?? {})) {
    const override: PriceOverride = {};
    if (price.input !== undefined) override.input = price.input;
    if (price.output !== undefined) override.output = price.output;
    if (price.cached_input !== undefined) override.cachedInput = price.cached_input;
    if (price.cache_write !== undefined) override.cacheWrite = price.cache_write;
    pricing[model] = override;
  }

  const logLevel = (pick(env.LOG_LEVEL, server.log_level) ?? 'info').toLowerCase();
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `expected one of fatal, error, warn, info, debug, trace, silent; got '${logLevel}'`);
  }

  return {
    port,
    host,
    masterKey,
    allowUnauthenticated,
    bodyLimitBytes,
    httpLimits: loadHttpLimitsConfig(env),
    logLevel,
    upstream: { headersTimeoutMs, bodyTimeoutMs, connectTimeoutMs, maxResponseBytes, maxEventBytes, totalTimeoutMs },
    modelsRefreshSeconds,
    providers: [...providers.values()],
    storage: { type: normalizedStorage, sqlitePath, postgresUrl, postgresSchema, spillDir, journalMaxBytes },
    usage: { enabled: usageValue === undefined ? true : parseBoolean('USAGE_ENABLED', usageValue) },
    state: readStateConfig(env, sqlitePath),
    cache: readCacheConfig(env, sqlitePath),
    logging: {
      enabled: boolSetting('LOGGING_ENABLED', logging.enabled, false),
      logBodies: boolSetting('LOGGING_LOG_BODIES', logging.log_bodies, false),
      logHeaders: boolSetting('LOGGING_LOG_HEADERS', logging.log_headers, false),
      retentionDays: parseInteger('LOGGING_RETENTION_DAYS', retentionValue, 0, 36_500),
      maxBodyBytes: parseSize('LOGGING_MAX_BODY_BYTES', maxBodyValue),
    },
    pricing,
    routing: loadRoutingConfig(env, yaml),
    resilience: loadResilienceConfig(env, yaml, yaml.providers ?? {}),
    passthrough: {
      enabled: boolSetting('ENABLE_PASSTHROUGH_ROUTES', yaml.passthrough?.enabled, true),
      providers: parseList(pick(env.ENABLED_PASSTHROUGH_PROVIDERS, yaml.passthrough?.enabled_providers) ?? defaultPassthroughProviders),
      allowV1Alias: boolSetting('ALLOW_PASSTHROUGH_V1_ALIAS', yaml.passthrough?.allow_v1_alias, true),
    },
    guardrails: loadGuardrailsConfig(env, yaml),
    workflows: loadWorkflowsConfig(env, yaml),
    rateLimits: loadRateLimitConfig(env, yaml),
    files: loadFilesConfig(env),
    dashboard: loadDashboardConfig(env),
    budgets: loadBudgetConfig(env, yaml),
    configFile,
  };
}
