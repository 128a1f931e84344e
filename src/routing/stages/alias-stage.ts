/**
 * Rewrites a model alias (config `aliases:`, MODEL_ALIASES, admin API) to what it stands for: a
 * `provider/model`, a bare id, a virtual model or another alias (followed up to a few levels; cycles
 * are refused when an alias is written and cut here).
 */
import { GatewayError } from '../../core/errors.ts';
import type { Stage } from '../../pipeline/stage.ts';
import type { RoutingCatalog } from '../routing-catalog.ts';

export const maxAliasDepth = 8;

/** Follows aliases from `name`; returns the final name (itself when it is no alias). */
export function followAliases(catalog: RoutingCatalog, name: string): string {
  let current = name;
  for (let depth = 0; depth < maxAliasDepth; depth++) {
    const next = catalog.aliasOf(current);
    if (next === undefined) return current;
    current = next;
  }
  throw new GatewayError(`The alias '${name}' does not lead to a model within ${maxAliasDepth} steps (a cycle?)`, {
    status: 400,
    code: 'alias_cycle',
    param: 'model',
    retryable: false,
  });
}

export function createAliasStage(catalog: RoutingCatalog): Stage {
  return {
    name: 'alias',
    handle(call, next) {
      if (catalog.aliasOf(call.requestedModel) === undefined) return next(call);
      return next({ ...call, requestedModel: followAliases(catalog, call.requestedModel) });
    },
  };
}
