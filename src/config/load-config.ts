/**
 * Configuration: environment first, optional config.yaml (with ${VAR} and ${VAR:-default}
 * expansion), environment wins. Invalid configuration fails at start with a message naming the key.
 */
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { type CacheConfig, readCacheConfig } from '../cache/cache-config.ts';
import { type DashboardConfig, loadDashboardConfig } from '../dashboard/dashboard-config.ts';
import { type FilesConfig, loadFilesConfig } from '../files/files-config.ts';
import { type BudgetConfig, loadBudgetConfig } from '../governance/budgets/budget-config.ts';
import { loadRateLimitConfig, type RateLimitConfig } from '../governance/limits/rate-limit-config.ts';
import { type GuardrailsConfig, loadGuardrailsConfig } from '../guardrails/guardrails-config.ts';
import { type HttpLimitsConfig, loadHttpLimitsConfig } from '../http/http-limits-config.ts';
import { defaultPassthroughProviders, type PassthroughConfig } from '../passthrough/passthrough-config.ts';
import { providerTypeNames } from '../providers/all-provider-types.ts';
import { loadResilienceConfig, providerKeys, type ResilienceConfig } from '../routing/resilience-config.ts';
import { loadRoutingConfig, type RoutingConfig } from '../routing/routing-config.ts';
import { readStateConfig, type StateConfig } from '../state/state-config.ts';
import { defaultJournalMaxBytes } from '../storage/batch-writer.ts';
import { loadWorkflowsConfig, type WorkflowsConfig } from '../workflows/workflow-config.ts';
import { ConfigError } from './config-error.ts';

import { type Env, parseBoolean, parseInteger, parseList, parseSize, pick } from './config-values.ts';
import { type ProviderConfig, providersFromEnv } from './providers-from-env.ts';
import { readYaml, type YamlConfig } from './yaml-config.ts';

export type { ProviderConfig };
export { ConfigError };

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
  /** STARTUP_GC: one memory-reducing GC shortly after the start, while idle (src/core/after-start.ts). */
  startupGc: boolean;
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
  const allowUnauthenticated = allowValue === undefined ? false : parseBoolean('MODELGATE_ALLOW_UNAUTHENTICATED', allowValue);
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
  const spillDir =
    pick(env.STORAGE_SPILL_DIR) ?? `${sqlitePath.includes('/') ? sqlitePath.slice(0, sqlitePath.lastIndexOf('/')) : '.'}/spill`;
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
    startupGc: env.STARTUP_GC === undefined ? true : parseBoolean('STARTUP_GC', env.STARTUP_GC),
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
