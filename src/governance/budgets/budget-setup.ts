/** Plugs budgets into a gateway: the store (config + database), the admin routes and the `budget` stage. */
import type { Logger } from 'pino';
import type { Gateway } from '../../app.ts';
import type { SharedState } from '../../state/shared-state.ts';
import type { Storage } from '../../storage/database.ts';
import { createPricingTable } from '../../usage/pricing.ts';
import type { GovernanceMetrics } from '../governance-metrics.ts';
import type { KeyStore } from '../keys/key-store.ts';
import { createBudgetAlerts } from './budget-alerts.ts';
// Documents the budget routes in /openapi.json (at module load).
import './budget-openapi.ts';
import { createBudgetRoutes } from './budget-routes.ts';
import { createBudgetStage } from './budget-stage.ts';
import { type BudgetStore, createBudgetStore } from './budget-store.ts';

export async function setUpBudgets(
  gateway: Gateway,
  dependencies: { storage: Storage; state: SharedState; keys: KeyStore; metrics: GovernanceMetrics; logger: Logger },
): Promise<BudgetStore> {
  const { storage, state, keys, metrics, logger } = dependencies;
  const config = gateway.config.budgets;
  const store = await createBudgetStore({
    storage,
    state,
    configured: config.budgets,
    onError: (error) => logger.warn({ reason: error instanceof Error ? error.message : String(error) }, 'budgets: reload failed'),
  });
  gateway.onClose(() => store.close());
  gateway.addRoutes(createBudgetRoutes(store, state, config));
  const alerts = createBudgetAlerts({
    state,
    logger,
    webhookUrl: config.alertWebhookUrl,
    onAlert: (budget) => metrics.budgetAlerts.inc({ scope: budget.scope }),
  });
  // With no budget the stage reads one empty list per call.
  gateway.pipeline.use(
    createBudgetStage({
      config,
      state,
      pricing: createPricingTable(gateway.config.pricing),
      budgets: store.all,
      keyOf: (keyId) => (keyId === null ? undefined : keys.byId(keyId)),
      alerts,
      onStateError: () => metrics.stateErrors.inc({ feature: 'budget' }),
      onRefused: (budget) => metrics.budgetRefusals.inc({ scope: budget.scope }),
    }),
  );
  return store;
}
