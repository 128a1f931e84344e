/**
 * Plugs retries, fallbacks and circuit breakers into the pipeline and serves their admin API. What
 * is registered by default, and why:
 * - `fallback`: always (a client may name fallbacks per request in `x-modelgate-fallbacks`); with no
 *   header and no list it costs one header and one size check per call.
 * - `circuit-breaker`: when CIRCUIT_BREAKER_FAILURE_THRESHOLD (or a provider's) is above 0 (default 5).
 * - `retry`: when RETRY_MAX_RETRIES is above 0 (default 3, as GoModel); without failures it is one await.
 * Key pools are built with the providers (src/app.ts), their status and refresh are served here.
 */
import type { Logger } from 'pino';
import type { GatewayExtension } from '../app.ts';
import { createCircuitBreakers } from './circuit-breakers.ts';
import { type Clock, createSystemClock } from './clock.ts';
import { createFallbackLists } from './fallback-store.ts';
import { createResilienceAdminRoutes } from './resilience-admin-routes.ts';
import { createCircuitBreakerStage } from './stages/circuit-breaker-stage.ts';
import { createFallbackStage, type FallbackObserver } from './stages/fallback-stage.ts';
import { createRetryStage, type RetryObserver } from './stages/retry-stage.ts';

export interface ResilienceExtensionOptions {
  /** Tests pass a fake clock. */
  clock?: Clock;
  /** How often each replica reloads the fallback lists stored through the admin API (seconds). */
  reloadSeconds?: number;
  observer?: RetryObserver & FallbackObserver;
  /** Bound on the targets whose circuit breakers are kept (default 4,096; tests use small values). */
  maxCircuitBreakers?: number;
}

export function createResilienceExtension(logger: Logger, options: ResilienceExtensionOptions = {}): GatewayExtension {
  return async (gateway) => {
    const settings = gateway.config.resilience;
    const clock = options.clock ?? createSystemClock();
    const lists = createFallbackLists(settings.fallbacks);
    const observer = options.observer ?? {};
    gateway.pipeline.use(
      createFallbackStage({
        lists,
        clock,
        totalTimeoutMs: settings.retry.totalTimeoutMs,
        streamStartTimeoutMs: settings.retry.streamStartTimeoutMs,
        observer,
      }),
    );
    const disabled = new Set<string>();
    for (const provider of gateway.providers) {
      const threshold = (settings.providerBreakers[provider.name] ?? settings.breaker).failureThreshold;
      if (threshold === 0) disabled.add(provider.name);
    }
    const breakers =
      disabled.size < gateway.providers.length
        ? createCircuitBreakers(settings.breaker, settings.providerBreakers, clock, options.maxCircuitBreakers)
        : null;
    if (breakers) {
      gateway.pipeline.use(createCircuitBreakerStage(breakers, disabled));
      gateway.breakers = breakers;
      // Virtual models skip targets whose circuit is open.
      gateway.routing.health.add(breakers);
    }
    if (gateway.keyPools.size > 0) {
      // Virtual models skip providers whose keys are all out.
      gateway.routing.health.add({ available: (provider) => gateway.keyPools.get(provider)?.available() ?? true });
    }
    if (settings.retry.maxRetries > 0) gateway.pipeline.use(createRetryStage(settings.retry, clock, observer));
    if (gateway.storage) {
      await lists.attach(gateway.storage.db as never);
      lists.start(options.reloadSeconds ?? 2, (error) => logger.warn({ err: error }, 'could not reload the fallback lists'));
      gateway.onClose(async () => lists.stop());
    }
    gateway.addRoutes(
      createResilienceAdminRoutes({
        registry: gateway.registry,
        providers: gateway.providers,
        lists,
        breakers,
        keyPools: gateway.keyPools,
        nativeResponsesMissing: () => gateway.dispatch.nativeResponsesMissing(),
      }),
    );
  };
}
