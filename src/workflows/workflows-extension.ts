/**
 * Workflows in the gateway: the `workflow` stage (first in the pipeline, opaque passthrough calls included;
 * one check per call while no workflow is defined), `gateway.workflowFor` for work outside the pipeline
 * (batches), the workflows of config.yaml and, once storage is open, those of the admin API
 * (/admin/api/v1/workflows), kept in step on every replica (message on the shared state + periodic reload).
 * Metric: modelgate_workflow_applied_total{workflow}.
 */
import { Counter } from 'prom-client';
import type { Logger } from 'pino';
import type { GatewayExtension } from '../app.ts';
import { createBoundedNameLabels } from '../metrics/metric-labels.ts';
import { followAliases } from '../routing/stages/alias-stage.ts';
import { createWorkflowLookup } from './workflow-lookup.ts';
import { policyOf, type WorkflowEntry } from './workflow-resolver.ts';
import { createWorkflowStage } from './workflow-stage.ts';
import { createWorkflowsAdminRoutes } from './workflows-admin-routes.ts';
import { createWorkflowsEngine } from './workflows-engine.ts';
import { createWorkflowsStore } from './workflows-store.ts';

/** Distinct workflow names that get their own metric label. */
const maxWorkflowLabels = 200;

export function createWorkflowsExtension(logger?: Logger): GatewayExtension {
  return async (gateway) => {
    const config = gateway.config.workflows;
    const engine = createWorkflowsEngine(config.definitions);
    engine.onError = (error) =>
      logger?.warn({ reason: error instanceof Error ? error.message : String(error) }, 'workflows: reload failed');
    const applied = new Counter({
      name: 'modelgate_workflow_applied_total',
      help: 'Model calls a workflow applied to, by workflow name',
      labelNames: ['workflow'] as const,
      registers: [],
    });
    gateway.metrics.push(applied as Counter<string>);
    const label = createBoundedNameLabels(maxWorkflowLabels);
    const lookupOptions = {
      resolver: engine.resolver,
      registry: gateway.registry,
      providerNames: new Set(gateway.providers.map((provider) => provider.name)),
      followAliases: (name: string) => followAliases(gateway.routing.catalog, name),
      keyOwner: () => gateway.keyOwner,
    };
    const onApplied = (entry: WorkflowEntry) => applied.inc({ workflow: label(entry.definition.name) });
    gateway.pipeline.use(createWorkflowStage({ ...lookupOptions, onApplied }));
    // For work outside the pipeline (batches).
    const lookup = createWorkflowLookup(lookupOptions);
    gateway.workflowFor = async (query) => {
      const entry = await lookup(query);
      if (!entry) return null;
      onApplied(entry);
      return policyOf(entry);
    };
    if (gateway.storage) {
      await engine.attach(createWorkflowsStore(gateway.storage.db as never), gateway.state);
      engine.start(config.refreshSeconds);
      gateway.onClose(() => engine.stop());
    }
    gateway.addRoutes(createWorkflowsAdminRoutes(engine));
  };
}
