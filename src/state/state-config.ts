/** Shared-state settings: REDIS_URL selects Redis (for replicas); otherwise the embedded store. */
import { ConfigError } from '../config/config-error.ts';

export interface StateConfig {
  /** REDIS_URL: redis:// or rediss:// URL; unset means the embedded store. */
  redisUrl: string | undefined;
  /** REDIS_KEY_PREFIX: prefix of every Redis key and channel (default `modelgate:`). */
  redisKeyPrefix: string;
  /** STATE_SQLITE_PATH: SQLite file of the embedded store's durable counters (default next to SQLITE_PATH). */
  sqlitePath: string;
}

export function readStateConfig(env: Record<string, string | undefined>, storageSqlitePath: string): StateConfig {
  const redisUrl = env.REDIS_URL?.trim() || undefined;
  if (redisUrl !== undefined) {
    let protocol = '';
    try {
      protocol = new URL(redisUrl).protocol;
    } catch {
      // reported below
    }
    if (protocol !== 'redis:' && protocol !== 'rediss:') {
      throw new ConfigError('REDIS_URL', 'expected a redis:// or rediss:// URL');
    }
  }
  const directory = storageSqlitePath.includes('/') ? storageSqlitePath.slice(0, storageSqlitePath.lastIndexOf('/')) : '.';
  return {
    redisUrl,
    redisKeyPrefix: env.REDIS_KEY_PREFIX?.trim() || 'modelgate:',
    sqlitePath: env.STATE_SQLITE_PATH?.trim() || (storageSqlitePath === ':memory:' ? ':memory:' : `${directory}/modelgate-state.db`),
  };
}
