/**
 * Connects routing to the database once storage is open (admin entries, reloaded every
 * ROUTING_REFRESH_SECONDS on every replica) and serves the routing admin API.
 */
import type { GatewayExtension } from '../app.ts';
import { createRoutingAdminRoutes } from './routing-admin-routes.ts';
import { createKyselyRoutingStore } from './routing-store.ts';

export function createRoutingExtension(): GatewayExtension {
  return async (gateway) => {
    const { catalog } = gateway.routing;
    if (gateway.storage) {
      await catalog.attachStore(createKyselyRoutingStore(gateway.storage.db as never));
      catalog.start();
      gateway.onClose(async () => catalog.stop());
    }
    gateway.addRoutes(createRoutingAdminRoutes(catalog));
  };
}
