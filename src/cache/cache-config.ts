/**
 * Response cache settings (environment; see docs/cache.md). The exact cache is off unless
 * RESPONSE_CACHE_SIMPLE_ENABLED is true; then every model call is looked up and stored.
 */
import { ConfigError } from '../config/config-error.ts';
import { readSemanticCacheConfig, type SemanticCacheConfig } from './semantic-config.ts';

export type CacheScope = 'key' | 'shared';

export interface CacheConfig {
  /** RESPONSE_CACHE_SIMPLE_ENABLED (default false). */
  exactEnabled: boolean;
  /** RESPONSE_CACHE_TTL: seconds an entry lives (default 3600). */
  ttlSeconds: number;
  /** RESPONSE_CACHE_MAX_ENTRIES: entries kept by the embedded store before the least recently used go (default 10000). */
  maxEntries: number;
  /** RESPONSE_CACHE_MAX_BYTES: bytes kept by the embedded store (default 256 MiB). */
  maxBytes: number;
  /** RESPONSE_CACHE_MAX_ENTRY_BYTES: larger answers are not stored (default 4 MiB). */
  maxEntryBytes: number;
  /** RESPONSE_CACHE_SCOPE: `key` (default: entries belong to the authenticated key) or `shared` (one scope for all). */
  scope: CacheScope;
  /** RESPONSE_CACHE_SQLITE_PATH: the embedded store's file (default next to SQLITE_PATH; `:memory:` keeps nothing). */
  sqlitePath: string;
  /** The semantic layer (src/cache/semantic-config.ts). */
  semantic: SemanticCacheConfig;
}

function positiveInteger(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new ConfigError(name, `expected a positive integer, got '${raw}'`);
  return value;
}

function flag(env: Record<string, string | undefined>, name: string): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '' || raw === 'false' || raw === '0' || raw === 'no' || raw === 'off') return false;
  if (raw === 'true' || raw === '1' || raw === 'yes' || raw === 'on') return true;
  throw new ConfigError(name, `expected true or false, got '${env[name]}'`);
}

export function readCacheConfig(env: Record<string, string | undefined>, storageSqlitePath: string): CacheConfig {
  const scope = env.RESPONSE_CACHE_SCOPE?.trim().toLowerCase() || 'key';
  if (scope !== 'key' && scope !== 'shared') throw new ConfigError('RESPONSE_CACHE_SCOPE', `expected 'key' or 'shared', got '${scope}'`);
  const directory = storageSqlitePath.includes('/') ? storageSqlitePath.slice(0, storageSqlitePath.lastIndexOf('/')) : '.';
  return {
    exactEnabled: flag(env, 'RESPONSE_CACHE_SIMPLE_ENABLED'),
    ttlSeconds: positiveInteger(env, 'RESPONSE_CACHE_TTL', 3600),
    maxEntries: positiveInteger(env, 'RESPONSE_CACHE_MAX_ENTRIES', 10_000),
    maxBytes: positiveInteger(env, 'RESPONSE_CACHE_MAX_BYTES', 256 * 1024 * 1024),
    maxEntryBytes: positiveInteger(env, 'RESPONSE_CACHE_MAX_ENTRY_BYTES', 4 * 1024 * 1024),
    scope,
    sqlitePath:
      env.RESPONSE_CACHE_SQLITE_PATH?.trim() || (storageSqlitePath === ':memory:' ? ':memory:' : `${directory}/modelgate-cache.db`),
    semantic: readSemanticCacheConfig(env, (name) => flag(env, name)),
  };
}
