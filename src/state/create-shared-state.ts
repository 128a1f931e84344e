/** Opens the shared state the configuration names: Redis when REDIS_URL is set, else the embedded store. */
import { createEmbeddedState } from './embedded-state.ts';
import type { SharedState } from './shared-state.ts';
import type { StateConfig } from './state-config.ts';

export async function createSharedState(config: StateConfig, onError?: (error: unknown) => void): Promise<SharedState> {
  if (config.redisUrl) {
    // Loaded only with REDIS_URL: the embedded default does not pay for the Redis client's start-up.
    const { createRedisState } = await import('./redis-state.ts');
    return createRedisState({ url: config.redisUrl, prefix: config.redisKeyPrefix, ...(onError ? { onError } : {}) });
  }
  return createEmbeddedState({ sqlitePath: config.sqlitePath });
}
