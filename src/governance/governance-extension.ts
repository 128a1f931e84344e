/**
 * Governance: managed keys (admin API, authentication, scopes, model lists), rate limits and budgets, on the
 * storage database and the shared state. Runs after the storage and state extensions.
 */
import type { Logger } from 'pino';
import type { GatewayExtension } from '../app.ts';
import { createSessionRoute } from '../admin/session-route.ts';
import { setUpBudgets } from './budgets/budget-setup.ts';
import { createGovernanceMetrics } from './governance-metrics.ts';
import { createKeyUsageReport } from './key-usage/key-usage-report.ts';
import { createKeyUsageRoutes } from './key-usage/key-usage-routes.ts';
import { createKeyAccessStage, createKeyTargetAccessStage, keyModelRefusal } from './keys/key-access-stage.ts';
import { createManagedKeyAuthenticator } from './keys/key-authenticator.ts';
// Documents the key routes in /openapi.json (at module load).
import './keys/key-openapi.ts';
import { createKeyRoutes } from './keys/key-routes.ts';
import { withScopeCheck } from './keys/key-scopes.ts';
import { createKeyStore } from './keys/key-store.ts';
import { isEmptyLimitSet } from './limits/rate-limit-config.ts';
import { hasAnyLimit } from './limits/rate-limit-plan.ts';
import { createRateLimitStage } from './limits/rate-limit-stage.ts';

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
    gateway.addRoutes([...createKeyRoutes(store), createSessionRoute((keyId) => store.byId(keyId))]);
    gateway.useAccess({
      authenticator: (master) => createManagedKeyAuthenticator(master, store),
      route: (route) => withScopeCheck(route, store),
    });
    gateway.pipeline.use(createKeyAccessStage(store));
    gateway.pipeline.use(createKeyTargetAccessStage(store));
    gateway.keyOwner = (keyId) => store.byId(keyId);
    gateway.keyModelAccess = (keyId, requested, target) => keyModelRefusal(store.byId(keyId), requested, target);

    const metrics = createGovernanceMetrics();
    gateway.metrics.push(...metrics.all());

    // Rate limits: active while the configuration or some managed key sets one (keys can gain limits at run time).
    const rateLimits = gateway.config.rateLimits;
    const configured = hasAnyLimit(rateLimits);
    const limitedKeys = new Set<string>();
    for (const key of store.keys()) if (!isEmptyLimitSet(key.rateLimits)) limitedKeys.add(key.id);
    store.onChange((key) => {
      if (key.revokedAt === null && !isEmptyLimitSet(key.rateLimits)) limitedKeys.add(key.id);
      else limitedKeys.delete(key.id);
    });
    const rateLimitStage = createRateLimitStage({
      config: rateLimits,
      state,
      keyOf: (keyId) => (keyId === null ? undefined : store.byId(keyId)),
      active: () => configured || limitedKeys.size > 0,
      slotTtlMs: gateway.config.upstream.totalTimeoutMs + 60_000,
      onStateError: () => metrics.stateErrors.inc({ feature: 'rate_limit' }),
      onRefused: (scope, kind) => metrics.rateLimitRefusals.inc({ scope, kind }),
    });
    gateway.pipeline.use(rateLimitStage);
    // Virtual models skip targets whose own model or provider limits are full.
    if (Object.keys(rateLimits.models).length > 0 || Object.keys(rateLimits.providers).length > 0) gateway.routing.health.add(rateLimitStage);

    const budgets = await setUpBudgets(gateway, { storage, state, keys: store, metrics, logger });

    // GET /v1/usage (the calling key's own) and GET /admin/api/v1/keys/{id}/usage.
    const { records } = gateway;
    if (!records) throw new Error('the records extension must run before governance');
    const report = createKeyUsageReport({
      state,
      budgets: budgets.all,
      budgetConfig: gateway.config.budgets,
      rateLimits,
      summary: (filters) => records.summary(filters),
    });
    gateway.addRoutes(createKeyUsageRoutes(report, store));
  };
}
