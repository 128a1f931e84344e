/**
 * Refuses models that are switched off: per provider and model through model overrides (config
 * `model_overrides:`, admin /admin/api/v1/model-overrides; model `*` stands for every model of the
 * provider), else MODELS_ENABLED_BY_DEFAULT. A disabled model answers 403 `model_disabled`.
 */
import { GatewayError } from '../../core/errors.ts';
import type { Stage } from '../../pipeline/stage.ts';
import type { RoutingCatalog } from '../routing-catalog.ts';

export function createModelAccessStage(catalog: RoutingCatalog): Stage {
  return {
    name: 'model-access',
    handle(call, next) {
      const target = call.target;
      if (target && !catalog.isEnabled(target.provider.name, target.model)) {
        throw new GatewayError(`The model '${target.provider.name}/${target.model}' is disabled on this gateway`, {
          status: 403,
          code: 'model_disabled',
          param: 'model',
          retryable: false,
        });
      }
      return next(call);
    },
  };
}
