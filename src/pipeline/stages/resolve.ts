/**
 * Finds the provider serving the requested model (`provider/model` or a bare id, see
 * src/core/model-registry.ts) unless an earlier stage already chose a target. Unknown -> 404.
 */
import { GatewayError } from '../../core/errors.ts';
import type { ModelRegistry, ResolvedModel } from '../../core/model-registry.ts';
import type { Stage } from '../stage.ts';

export function modelNotFound(model: string): GatewayError {
  return new GatewayError(`The model '${model}' does not exist or no configured provider serves it`, {
    status: 404,
    code: 'model_not_found',
    param: 'model',
    retryable: false,
  });
}

export async function resolveOrThrow(registry: ModelRegistry, model: string): Promise<ResolvedModel> {
  const resolved = await registry.resolve(model);
  if (!resolved) throw modelNotFound(model);
  return resolved;
}

export function createResolveStage(registry: ModelRegistry): Stage {
  return {
    name: 'resolve',
    handle(call, next) {
      if (call.target) return next(call);
      return resolveOrThrow(registry, call.requestedModel).then((target) => next({ ...call, target }));
    },
  };
}
