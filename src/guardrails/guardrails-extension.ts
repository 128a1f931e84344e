/**
 * Guardrails in the gateway: with GUARDRAILS_ENABLED the input and output stages join the pipeline;
 * without it nothing is registered and calls pay nothing. The admin API (/admin/api/v1/guardrails)
 * is served either way; once storage is open, stored guardrails are loaded, and reloaded on every replica
 * when a change message arrives (Redis pub/sub with REDIS_URL) and every GUARDRAILS_REFRESH_SECONDS. Decisions are counted in
 * modelgate_guardrail_decisions_total (guardrail-metrics.ts); an llm guardrail's model calls are
 * recorded as usage of the calling key (model-completer.ts).
 */
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { GatewayExtension } from '../app.ts';
import type { CallPolicy } from '../pipeline/call-policy.ts';
import type { ModelCall } from '../pipeline/model-call.ts';
import { createBatchLineGuard } from './batch-line-guard.ts';
import { createGuardrailMetrics } from './guardrail-metrics.ts';
import { createGuardrailsAdminRoutes } from './guardrails-admin-routes.ts';
import { createGuardrailsEngine } from './guardrails-engine.ts';
import { createKyselyGuardrailsStore } from './guardrails-store.ts';
import { createGuardrailsInputStage } from './input-stage.ts';
import { createModelCompleter } from './model-completer.ts';
import { createGuardrailsOutputStage } from './output-stage.ts';

export function createGuardrailsExtension(logger?: Logger): GatewayExtension {
  return async (gateway) => {
    const config = gateway.config.guardrails;
    const engine = createGuardrailsEngine(config.rules, { complete: createModelCompleter(gateway.registry, gateway.bus) });
    engine.onError = (name, error) =>
      logger?.warn({ guardrail: name, reason: error instanceof Error ? error.message : String(error) }, 'guardrails reload failed');
    if (config.enabled) {
      // A workflow may name the guardrails that run for a call (trace.policy.guardrails); otherwise all do.
      const selectFor = (policy: CallPolicy | null | undefined) => {
        const selector = engine.selector();
        const names = policy?.guardrails;
        return names ? selector.named(names, selector.all.version) : selector.all;
      };
      const select = (call: ModelCall) => selectFor(call.trace.policy);
      gateway.pipeline.use(createGuardrailsInputStage(select));
      gateway.pipeline.use(createGuardrailsOutputStage(select));
      const metrics = createGuardrailMetrics();
      gateway.metrics.push(metrics.decisions as Counter<string>);
      gateway.bus.subscribe((outcome) => {
        if (outcome.guardrails !== undefined || outcome.guardrailChecks !== undefined) metrics.record(outcome);
      });
      if (config.batchProcessing) gateway.batchLineGuard = createBatchLineGuard(selectFor, metrics);
    }
    if (gateway.storage) {
      await engine.attachStore(createKyselyGuardrailsStore(gateway.storage.db as never), gateway.state);
      engine.start(config.refreshSeconds);
      gateway.onClose(() => engine.stop());
    }
    gateway.addRoutes(createGuardrailsAdminRoutes(engine));
  };
}
