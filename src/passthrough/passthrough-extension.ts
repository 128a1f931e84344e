/** Registers `/p/{provider}/...` unless ENABLE_PASSTHROUGH_ROUTES is false. */
import type { GatewayExtension } from '../app.ts';
import { createPassthroughRoutes } from './passthrough-route.ts';
import { createPassthroughTargets } from './passthrough-targets.ts';

export function createPassthroughExtension(): GatewayExtension {
  return (gateway) => {
    const config = gateway.config.passthrough;
    if (!config.enabled) return;
    gateway.addRoutes(
      createPassthroughRoutes({
        config,
        pipeline: gateway.pipeline,
        providers: gateway.providers,
        targets: createPassthroughTargets(gateway.config.providers, config),
        client: gateway.client,
        bus: gateway.bus,
        bodyLimitBytes: gateway.config.bodyLimitBytes,
        maxJsonDepth: gateway.config.httpLimits.maxJsonDepth,
      }),
    );
  };
}
