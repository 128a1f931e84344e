/**
 * Registers the Responses API routes. Responses are kept in the storage layer's database
 * (`gateway.storage`, table `responses`); without storage the gateway falls back to a bounded
 * in-process store (documented in docs/responses-and-messages.md).
 */
import type { Logger } from 'pino';
import type { GatewayExtension } from '../app.ts';
import { GatewayError } from '../core/errors.ts';
import { createResponsesRoutes } from '../routes/responses.ts';
import { createKyselyResponseStore, createMemoryResponseStore, type ResponseStore } from './response-store.ts';

/** Database failures become a 503 the client can retry, logged with their cause (never a bare 500). */
function guarded(store: ResponseStore, logger: Logger): ResponseStore {
  const fail = (error: unknown): never => {
    logger.error({ err: error }, 'response store failed');
    throw new GatewayError('The response store is unavailable, try again later', {
      status: 503,
      code: 'storage_unavailable',
      cause: error,
    });
  };
  return {
    save: (stored) => store.save(stored),
    get: (id) => store.get(id).catch(fail),
    delete: (id) => store.delete(id).catch(fail),
  };
}

export function createResponsesExtension(logger: Logger, options: { store?: ResponseStore } = {}): GatewayExtension {
  return (gateway) => {
    let databaseStore: ResponseStore | undefined;
    let memoryStore: ResponseStore | undefined;
    let warned = false;
    const provided = options.store ? guarded(options.store, logger) : undefined;
    const store = (): ResponseStore => {
      if (provided) return provided;
      if (gateway.storage) {
        databaseStore ??= guarded(createKyselyResponseStore(gateway.storage.db as never), logger);
        return databaseStore;
      }
      if (!warned) {
        warned = true;
        logger.warn('no storage configured: responses are kept in memory on this process only');
      }
      memoryStore ??= createMemoryResponseStore();
      return memoryStore;
    };
    gateway.addRoutes(createResponsesRoutes({ registry: gateway.registry, bus: gateway.bus, pipeline: gateway.pipeline, store, logger }));
  };
}
