/**
 * The model part of a cache key: what the requested model resolves to before any routing choice.
 * Aliases are followed; a virtual model stays its own name (which target it picks is part of the
 * answer); anything else resolves through the registry to `provider/upstream-model`, so that
 * `gpt-4o-mini` and `openai/gpt-4o-mini` share entries. Null: the model is unknown (the call then
 * fails further down and nothing is cached).
 */
import type { ModelRegistry } from '../core/model-registry.ts';
import type { RoutingCatalog } from '../routing/routing-catalog.ts';
import { followAliases } from '../routing/stages/alias-stage.ts';

export type CacheTargetResolver = (requestedModel: string) => Promise<string | null>;

export function createCacheTargetResolver(registry: ModelRegistry, catalog: RoutingCatalog): CacheTargetResolver {
  return async (requestedModel) => {
    let name: string;
    try {
      name = followAliases(catalog, requestedModel);
    } catch {
      return null;
    }
    if (catalog.virtualModel(name)) return `virtual:${name}`;
    const resolved = await registry.resolve(name);
    return resolved ? `${resolved.provider.name}/${resolved.model}` : null;
  };
}
