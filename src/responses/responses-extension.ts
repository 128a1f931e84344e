/**
 * Registers the Responses API routes. Responses are kept in the storage layer's database
 * (`gateway.storage`, table `responses`); without storage the gateway falls back to a bounded
 * in-process store (documented in docs/responses-and-messages.md).
 */
import type { Logger } from 'pino';
import type { GatewayExtension } from '../app.ts';
import { createResponsesRoutes } from '../routes/responses.ts';
import { createKyselyResponseStore, createMemoryResponseStore, type ResponseStore } from './response-store.ts';

export function createResponsesExtension(logger: Logger, options: { store?: ResponseStore } = {}): GatewayExtension {
  return (gateway) => {
    let databaseStore: ResponseStore | undefined;
    let memoryStore: ResponseStore | undefined;
    let warned = false;
    const store = (): ResponseStore => {
      if (options.store) return options.store;
      if (gateway.storage) {
        databaseStore ??= createKyselyResponseStore(gateway.storage.db as never);
        return databaseStore;
      }
      if (!warned) {
        warned = true;
        logger.warn('no storage configured: responses are kept in memory on this process only');
      }
      memoryStore ??= createMemoryResponseStore();
      return memoryStore;
    };
    gateway.addRoutes(createResponsesRoutes({ registry: gateway.registry, bus: gateway.bus, store, logger }));
  };
}
