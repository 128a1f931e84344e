/**
 * Plugs the response cache into the pipeline when RESPONSE_CACHE_SIMPLE_ENABLED or
 * SEMANTIC_CACHE_ENABLED is on (otherwise no stage is registered and calls pay nothing), opens its
 * store (Redis through the shared state when REDIS_URL is set, else the embedded memory + SQLite
 * store) and the semantic layer's vector store, and serves the cache admin API.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Gateway, GatewayExtension } from '../app.ts';
import { ConfigError } from '../config/config-error.ts';
import { createCacheAdminRoutes } from './cache-admin-routes.ts';
import { type CacheCounters, createCacheStage } from './cache-stage.ts';
import type { CacheStore } from './cache-store.ts';
import { createCacheTargetResolver } from './cache-target.ts';
import { createEmbeddedCacheStore } from './embedded-cache-store.ts';
import type { SemanticLayer } from './semantic-layer.ts';
import type { VectorStore } from './vector-store.ts';

/**
 * The semantic layer's vector store: pgvector in the gateway's PostgreSQL database when storage is
 * PostgreSQL and the extension can be created (SEMANTIC_CACHE_VECTOR_STORE=auto, the default, or
 * pgvector); otherwise sqlite-vec in the cache's SQLite file. `auto` falls back with a warning, since
 * sqlite-vec vectors are per process (replicas then find only their own prompts); `pgvector` fails start.
 */
async function openVectorStore(gateway: Gateway, logger: Logger): Promise<VectorStore> {
  const wanted = gateway.config.cache.semantic.vectorStore;
  const storage = gateway.storage;
  const openSqliteVec = async () => (await import('./sqlite-vec-store.ts')).createSqliteVecStore(gateway.config.cache.sqlitePath);
  if (wanted === 'sqlite-vec') return openSqliteVec();
  if (storage?.dialect !== 'postgresql') {
    if (wanted === 'pgvector') throw new ConfigError('SEMANTIC_CACHE_VECTOR_STORE', 'pgvector needs STORAGE_TYPE=postgresql');
    return openSqliteVec();
  }
  try {
    const { openPgvectorStore } = await import('./pgvector-store.ts');
    const store = await openPgvectorStore(storage.db as Kysely<unknown>);
    logger.info('semantic cache: vectors in PostgreSQL (pgvector)');
    return store;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (wanted === 'pgvector') throw new ConfigError('SEMANTIC_CACHE_VECTOR_STORE', `pgvector is not available in PostgreSQL: ${reason}`);
    logger.warn(
      { reason, path: gateway.config.cache.sqlitePath },
      'semantic cache: PostgreSQL has no usable pgvector extension; vectors are kept in sqlite-vec in a local file, per process (replicas do not share semantic matches). Install pgvector, or set SEMANTIC_CACHE_VECTOR_STORE=sqlite-vec to silence this',
    );
    return openSqliteVec();
  }
}

export function createCacheExtension(logger: Logger): GatewayExtension {
  return async (gateway) => {
    const config = gateway.config.cache;
    const counters: CacheCounters = { hits: 0, misses: 0, bypasses: 0, stored: 0, errors: 0 };
    let store: CacheStore | null = null;
    let semantic: SemanticLayer | null = null;
    if (config.exactEnabled || config.semantic.enabled) {
      const opened =
        gateway.state?.kind === 'redis'
          ? await (await import('./shared-cache-store.ts')).createSharedCacheStore(gateway.state)
          : createEmbeddedCacheStore({ sqlitePath: config.sqlitePath, maxEntries: config.maxEntries, maxBytes: config.maxBytes });
      store = opened;
      gateway.onClose(() => opened.close());
      if (config.semantic.enabled) {
        const embedder = gateway.providers.find((provider) => provider.name === config.semantic.embedderProvider);
        if (!embedder)
          throw new ConfigError(
            'SEMANTIC_CACHE_EMBEDDER_PROVIDER',
            `no configured provider is named '${config.semantic.embedderProvider}'`,
          );
        const vectors = await openVectorStore(gateway, logger);
        gateway.onClose(() => vectors.close());
        const { createSemanticLayer } = await import('./semantic-layer.ts');
        semantic = createSemanticLayer({ config: config.semantic, embedder, vectors, logger, onError: () => counters.errors++ });
      }
      gateway.pipeline.use(
        createCacheStage({
          config,
          semantic,
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
        semantic,
        counters,
        storage: () => gateway.storage,
        settings: { exact: config.exactEnabled, semantic: config.semantic.enabled, ttlSeconds: config.ttlSeconds, scope: config.scope },
      }),
    );
  };
}
