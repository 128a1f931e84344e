/**
 * Routing on the pipeline: aliases, virtual models and model access, with what they share (the
 * catalog of entries, target health and per-target statistics). The stages cost one map lookup per
 * call when no alias, virtual model or override exists.
 */
import type { Logger } from 'pino';
import type { ModelRegistry } from '../core/model-registry.ts';
import type { Pipeline } from '../pipeline/pipeline.ts';
import type { PricingTable } from '../usage/pricing.ts';
import { createRoutingCatalog, type RoutingCatalog } from './routing-catalog.ts';
import type { RoutingConfig } from './routing-config.ts';
import { createAliasStage } from './stages/alias-stage.ts';
import { createModelAccessStage } from './stages/model-access-stage.ts';
import { createVirtualModelStage } from './stages/virtual-model-stage.ts';
import { createTargetHealth, type TargetHealthRegistry } from './target-health.ts';
import { createTargetSelector } from './target-selection.ts';
import { createTargetStats, type TargetStats } from './target-stats.ts';

export interface Routing {
  catalog: RoutingCatalog;
  /** Add checks (circuit breakers, key pools) that make routing skip a target. */
  health: TargetHealthRegistry;
  stats: TargetStats;
}

export function createRouting(options: {
  config: RoutingConfig;
  registry: ModelRegistry;
  pipeline: Pipeline;
  pricing: PricingTable;
  logger: Logger;
}): Routing {
  const { config, registry, pipeline, pricing, logger } = options;
  const catalog = createRoutingCatalog(config, (error) => logger.warn({ err: error }, 'could not reload routing entries'));
  const health = createTargetHealth();
  const stats = createTargetStats();
  const selector = createTargetSelector({
    stats,
    priceOf(model) {
      const slash = model.indexOf('/');
      const price = pricing.priceOf(model, slash > 0 ? model.slice(0, slash) : null);
      return price ? price.input + price.output : null;
    },
  });
  pipeline.use(createAliasStage(catalog));
  pipeline.use(createVirtualModelStage({ catalog, registry, selector, stats, health }));
  pipeline.use(createModelAccessStage(catalog));
  return { catalog, health, stats };
}
