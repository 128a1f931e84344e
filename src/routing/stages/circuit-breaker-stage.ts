/**
 * Fails fast on a target whose circuit is open (src/routing/circuit-breakers.ts): a retryable 503
 * `circuit_open`, listed as an attempt, so that a fallback moves on at once. Otherwise lets the call
 * through and records how its attempts went. A provider whose breaker is switched off
 * (`failure_threshold: 0`) is not tracked.
 */
import { GatewayError } from '../../core/errors.ts';
import type { Stage } from '../../pipeline/stage.ts';
import type { ProviderResult } from '../../providers/types.ts';
import type { CircuitBreakers } from '../circuit-breakers.ts';

export function circuitOpenError(provider: string, model: string, retryInMs: number): GatewayError {
  return new GatewayError(
    `The circuit for ${provider}/${model} is open after repeated upstream failures; retry in ${Math.ceil(retryInMs / 1000)} s`,
    {
      status: 503,
      code: 'circuit_open',
      type: 'upstream_error',
      retryable: true,
      headers: { 'retry-after': String(Math.max(1, Math.ceil(retryInMs / 1000))) },
      provider,
    },
  );
}

export function createCircuitBreakerStage(breakers: CircuitBreakers, disabledProviders: ReadonlySet<string>): Stage {
  return {
    name: 'circuit-breaker',
    handle(call, next) {
      const target = call.target;
      if (!target || disabledProviders.has(target.provider.name)) return next(call);
      const breaker = breakers.get(target.provider.name, target.model);
      if (!breaker.tryAcquire()) {
        const error = circuitOpenError(target.provider.name, target.model, breaker.retryInMs());
        call.trace.attempts.push({
          provider: target.provider.name,
          model: target.model,
          operation: call.operations[0] ?? 'chat',
          status: 503,
          error: 'circuit_open',
          latencyMs: 0,
        });
        throw error;
      }
      const from = call.trace.attempts.length;
      breaker.inFlight += 1;
      const settle = () => {
        breaker.inFlight -= 1;
        breaker.settle(call.trace.attempts, from);
      };
      let pending: Promise<ProviderResult>;
      try {
        pending = next(call);
      } catch (error) {
        settle();
        throw error;
      }
      return pending.finally(settle);
    },
  };
}
