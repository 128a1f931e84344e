/**
 * Plugs the response cache into the pipeline when RESPONSE_CACHE_SIMPLE_ENABLED is on (otherwise no
 * stage is registered and calls pay nothing), opens its store (Redis through the shared state when
 * REDIS_URL is set, else the embedded memory + SQLite store) and serves the cache admin API.
 */
import type { Logger } from 'pino';
import type { GatewayExtension } from '../app.ts';
import { createCacheAdminRoutes } from './cache-admin-routes.ts';
import { type CacheCounters, createCacheStage } from './cache-stage.ts';
import type { CacheStore } from './cache-store.ts';
import { createCacheTargetResolver } from './cache-target.ts';
import { createEmbeddedCacheStore } from './embedded-cache-store.ts';
import { createSharedCacheStore } from './shared-cache-store.ts';

export function createCacheExtension(logger: Logger): GatewayExtension {
  return async (gateway) => {
    const config = gateway.config.cache;
    const counters: CacheCounters = { hits: 0, misses: 0, bypasses: 0, stored: 0, errors: 0 };
    let store: CacheStore | null = null;
    if (config.exactEnabled) {
      const opened =
        gateway.state?.kind === 'redis'
          ? await createSharedCacheStore(gateway.state)
          : createEmbeddedCacheStore({ sqlitePath: config.sqlitePath, maxEntries: config.maxEntries, maxBytes: config.maxBytes });
      store = opened;
      gateway.onClose(() => opened.close());
      gateway.pipeline.use(
        createCacheStage({
          config,
          store: opened,
          resolveTarget: createCacheTargetResolver(gateway.registry, gateway.routing.catalog),
          providers: gateway.providers,
          logger,
          counters,
        }),
      );
    }
    gateway.addRoutes(
      createCacheAdminRoutes({
        store,
        counters,
        storage: () => gateway.storage,
        settings: { exact: config.exactEnabled, semantic: false, ttlSeconds: config.ttlSeconds, scope: config.scope },
      }),
    );
  };
}
