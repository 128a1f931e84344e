/**
 * Pipeline stage `key-access`: a managed key may call only the models its lists allow. Both the model as
 * requested and its name without a `provider/` prefix are checked, so a denied model cannot be reached
 * by naming its provider; deny wins over allow.
 */
import { GatewayError } from '../../core/errors.ts';
import type { Stage } from '../../pipeline/stage.ts';
import type { KeyStore } from './key-store.ts';
import { keyAllowsModel, type ManagedKey } from './managed-key.ts';

function allowed(key: ManagedKey, model: string): boolean {
  const slash = model.indexOf('/');
  const bare = slash === -1 ? null : model.slice(slash + 1);
  const forms = bare === null ? [model] : [model, bare];
  const denied = forms.some((form) => !keyAllowsModel({ ...key, allowedModels: [] }, form));
  if (denied) return false;
  return forms.some((form) => keyAllowsModel(key, form));
}

export function createKeyAccessStage(store: KeyStore): Stage {
  return {
    name: 'key-access',
    async handle(call, next) {
      const keyId = call.request.keyId;
      const key = keyId === null ? undefined : store.byId(keyId);
      if (key && !allowed(key, call.requestedModel)) {
        throw new GatewayError(`This API key may not use the model '${call.requestedModel}'`, {
          status: 403,
          code: 'model_not_allowed',
          param: 'model',
          retryable: false,
        });
      }
      return next(call);
    },
  };
}
