/**
 * Guardrails in the gateway: with GUARDRAILS_ENABLED the input and output stages join the pipeline;
 * without it nothing is registered and calls pay nothing.
 */
import type { GatewayExtension } from '../app.ts';
import { createGuardrailsEngine } from './guardrails-engine.ts';
import { createGuardrailsInputStage } from './input-stage.ts';
import { createModelCompleter } from './model-completer.ts';
import { createGuardrailsOutputStage } from './output-stage.ts';

export function createGuardrailsExtension(): GatewayExtension {
  return (gateway) => {
    const config = gateway.config.guardrails;
    if (!config.enabled) return;
    const engine = createGuardrailsEngine(config.rules, { complete: createModelCompleter(gateway.registry) });
    const select = () => engine.selector().all;
    gateway.pipeline.use(createGuardrailsInputStage(select));
    gateway.pipeline.use(createGuardrailsOutputStage(select));
  };
}
