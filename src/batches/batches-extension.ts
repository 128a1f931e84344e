/** Registers the Batch API (`/v1/batches`) and its poller, over the providers with a batch API (src/batches/batch-provider.ts). */
import type { Logger } from 'pino';
import type { GatewayExtension } from '../app.ts';
import { createFileStore } from '../files/file-store.ts';
import { createFileTargets } from '../files/file-targets.ts';
import { createPricingTable } from '../usage/pricing.ts';
import { createBatchPoller } from './batch-poller.ts';
import { createBatchProviders } from './batch-providers.ts';
import { createBatchService } from './batch-service.ts';
import { createBatchStore } from './batch-store.ts';
import { createBatchesRoutes } from './batches-routes.ts';
import './batches-openapi.ts';

export function createBatchesExtension(logger: Logger): GatewayExtension {
  return (gateway) => {
    const storage = gateway.storage;
    if (!storage) throw new Error('the storage extension must run before the batches extension');
    const fileTargets = createFileTargets(gateway.config.providers);
    const providers = createBatchProviders({
      providers: gateway.config.providers,
      fileTargets,
      client: gateway.client,
      spoolDir: gateway.config.files.spoolDir,
    });
    const files = createFileStore(storage);
    const batches = createBatchStore(storage);
    const service = createBatchService({
      storage,
      store: batches,
      files,
      providers,
      pricing: createPricingTable(gateway.config.pricing),
      keyOwner: (keyId) => gateway.keyOwner?.(keyId),
    });
    gateway.addRoutes(
      createBatchesRoutes({
        config: gateway.config.files,
        fileTargets,
        files,
        batches,
        providers,
        service,
        client: gateway.client,
        catalog: gateway.routing.catalog,
        registry: gateway.registry,
        keyModelAccess: () => gateway.keyModelAccess,
        workflowFor: () => gateway.workflowFor,
        providerNames: new Set(gateway.config.providers.map((provider) => provider.name)),
        ...(gateway.batchLineGuard ? { lineGuard: gateway.batchLineGuard } : {}),
      }),
    );
    if (providers.all.length > 0) {
      const poller = createBatchPoller({ store: batches, service, intervalMs: gateway.config.files.batchPollIntervalMs, logger });
      gateway.onClose(() => poller.stop());
    }
  };
}
