/**
 * Pipeline stages of a managed key's model lists. Deny wins over allow; names are checked as requested
 * and without a `provider/` prefix, so a denied model cannot be reached by naming its provider.
 * - `key-access` (first): the name the client asked for must be allowed and not denied (before the cache
 *   or routing see the call).
 * - `key-target-access` (after routing resolution): each target an alias, a virtual model or a fallback
 *   resolves to is checked too: the call is refused when the target (`provider/model` or the upstream
 *   model) is denied, or when the key has an allow list that names neither the requested model nor the
 *   target (on the first attempt also the model the client named). So an alias cannot lead a key to a model
 *   it is denied, allowing an alias allows its target, and a fallback needs an allowed name or target.
 */
import { GatewayError } from '../../core/errors.ts';
import type { Stage } from '../../pipeline/stage.ts';
import type { KeyStore } from './key-store.ts';
import { keyAllowsModel, type ManagedKey } from './managed-key.ts';

function forms(model: string): string[] {
  const slash = model.indexOf('/');
  return slash === -1 ? [model] : [model, model.slice(slash + 1)];
}

function denies(key: ManagedKey, names: string[]): boolean {
  const denyOnly = { ...key, allowedModels: [] };
  return names.some((name) => !keyAllowsModel(denyOnly, name));
}

function allows(key: ManagedKey, names: string[]): boolean {
  return key.allowedModels.length === 0 || names.some((name) => keyAllowsModel({ ...key, deniedModels: [] }, name));
}

function refused(model: string): GatewayError {
  return new GatewayError(`This API key may not use the model '${model}'`, {
    status: 403,
    code: 'model_not_allowed',
    param: 'model',
    retryable: false,
  });
}

const hasLists = (key: ManagedKey | undefined): key is ManagedKey =>
  key !== undefined && (key.allowedModels.length > 0 || key.deniedModels.length > 0);

/**
 * What the two stages decide for one call, outside the pipeline (batch lines, src/batches/batch-input.ts): the
 * requested name must be allowed and not denied, and the target it resolved to not denied. Null when allowed.
 */
export function keyModelRefusal(
  key: ManagedKey | undefined,
  requested: string,
  target: { provider: string; model: string },
): GatewayError | null {
  if (!hasLists(key)) return null;
  const names = forms(requested);
  if (denies(key, names) || !allows(key, names) || denies(key, [`${target.provider}/${target.model}`, target.model]))
    return refused(requested);
  return null;
}

export function createKeyAccessStage(store: KeyStore): Stage {
  return {
    name: 'key-access',
    handle(call, next) {
      const keyId = call.request.keyId;
      const key = keyId === null ? undefined : store.byId(keyId);
      if (!hasLists(key)) return next(call);
      const names = forms(call.requestedModel);
      if (denies(key, names) || !allows(key, names)) throw refused(call.requestedModel);
      return next(call);
    },
  };
}

export function createKeyTargetAccessStage(store: KeyStore): Stage {
  return {
    name: 'key-target-access',
    handle(call, next) {
      const keyId = call.request.keyId;
      const key = keyId === null ? undefined : store.byId(keyId);
      if (!hasLists(key) || !call.target) return next(call);
      const target = [`${call.target.provider.name}/${call.target.model}`, call.target.model];
      const requested = forms(call.requestedModel);
      if (denies(key, target) || denies(key, requested)) throw refused(call.requestedModel);
      // The body's model is what the client named; on the first attempt the target comes from it through the
      // gateway's own aliases and virtual models, so allowing that name allows its target. A later attempt is a
      // fallback (possibly named by the client in a header): it must be allowed by its own name or target.
      const named = call.trace.attempts.length === 0 && typeof call.body.model === 'string' ? forms(call.body.model) : [];
      if (!allows(key, [...named, ...requested, ...target])) throw refused(call.requestedModel);
      return next(call);
    },
  };
}
