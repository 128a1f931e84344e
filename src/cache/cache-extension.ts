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
import type { CallOutcome } from '../core/outcome.ts';
import type { Provider } from '../providers/types.ts';
import { createCacheAdminRoutes } from './cache-admin-routes.ts';
import { createCacheMetrics } from './cache-metrics.ts';
import { createCacheStage } from './cache-stage.ts';
import type { CacheStore } from './cache-store.ts';
import { createCacheTargetResolver } from './cache-target.ts';
import { createEmbeddedCacheStore } from './embedded-cache-store.ts';
import type { EmbedderCall, SemanticLayer } from './semantic-layer.ts';
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

/**
 * The semantic layer's embedding call as a call of its own on the outcome bus: a usage row (priced like
 * any embeddings call, attributed to the caller's key, `cache_status: 'embedder'`, the caller's request
 * id), an audit row and metrics, so the cache's own cost is counted, not lost.
 */
function embedderOutcome(embedded: EmbedderCall, embedder: Provider, model: string): CallOutcome {
  const { call } = embedded;
  return {
    requestId: call.context.requestId,
    endpoint: 'embeddings',
    provider: embedder.name,
    providerType: embedder.type,
    requestedModel: model,
    model,
    stream: false,
    status: embedded.status,
    usage: embedded.usage,
    startedAt: embedded.startedAt,
    latencyMs: embedded.latencyMs,
    firstByteMs: null,
    error: embedded.error,
    keyId: call.request.keyId,
    cacheStatus: 'embedder',
    droppedParams: [],
    attempts: [
      {
        provider: embedder.name,
        model,
        operation: 'embeddings',
        status: embedded.status,
        error: embedded.error?.code ?? null,
        latencyMs: embedded.latencyMs,
      },
    ],
    method: call.request.method,
    path: call.request.path,
  };
}

export function createCacheExtension(logger: Logger): GatewayExtension {
  return async (gateway) => {
    const config = gateway.config.cache;
    const metrics = createCacheMetrics();
    let store: CacheStore | null = null;
    let semantic: SemanticLayer | null = null;
    if (config.exactEnabled || config.semantic.enabled) {
      gateway.metrics.push(...metrics.all());
      const opened =
        gateway.state?.kind === 'redis'
          ? await (await import('./shared-cache-store.ts')).createSharedCacheStore(gateway.state)
          : createEmbeddedCacheStore({
              sqlitePath: config.sqlitePath,
              maxEntries: config.maxEntries,
              maxBytes: config.maxBytes,
              onEvict: () => metrics.evicted(),
              onWriteError: (error) => {
                metrics.error('store');
                logger.warn({ err: error }, 'response cache: could not write entries to SQLite; they are kept in memory only');
              },
            });
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
        semantic = createSemanticLayer({
          config: config.semantic,
          embedder,
          vectors,
          logger,
          onError: (operation) => metrics.error(operation),
          onEmbedded: (embedded) => gateway.bus.emit(embedderOutcome(embedded, embedder, config.semantic.embedderModel)),
        });
      }
      gateway.pipeline.use(
        createCacheStage({
          config,
          semantic,
          store: opened,
          resolveTarget: createCacheTargetResolver(gateway.registry, gateway.routing.catalog),
          providers: gateway.providers,
          logger,
          metrics,
          admit: (call, answer) => gateway.pipeline.admit(call, answer),
        }),
      );
    }
    gateway.addRoutes(
      createCacheAdminRoutes({
        store,
        semantic,
        counters: metrics.counters,
        storage: () => gateway.storage,
        settings: { exact: config.exactEnabled, semantic: config.semantic.enabled, ttlSeconds: config.ttlSeconds, scope: config.scope },
      }),
    );
  };
}
