/**
 * Governance: managed keys (admin API, authentication, scopes, model lists) on the storage database and
 * the shared state. Runs after the storage and state extensions.
 */
import type { Logger } from 'pino';
import type { GatewayExtension } from '../app.ts';
import { createKeyAccessStage } from './keys/key-access-stage.ts';
import { createManagedKeyAuthenticator } from './keys/key-authenticator.ts';
// Documents the key routes in /openapi.json (at module load).
import './keys/key-openapi.ts';
import { createKeyRoutes } from './keys/key-routes.ts';
import { withScopeCheck } from './keys/key-scopes.ts';
import { createKeyStore } from './keys/key-store.ts';

export function createGovernanceExtension(logger: Logger): GatewayExtension {
  return async (gateway) => {
    const { storage, state } = gateway;
    if (!storage || !state) throw new Error('the storage and state extensions must run before governance');
    const store = await createKeyStore({
      storage,
      state,
      onError: (error) => logger.warn({ reason: error instanceof Error ? error.message : String(error) }, 'managed keys: sync failed'),
    });
    gateway.onClose(() => store.close());
    gateway.addRoutes(createKeyRoutes(store));
    gateway.useAccess({
      authenticator: (master) => createManagedKeyAuthenticator(master, store),
      route: (route) => withScopeCheck(route, store),
    });
    gateway.pipeline.use(createKeyAccessStage(store));
  };
}
