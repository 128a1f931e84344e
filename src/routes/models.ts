/** GET /v1/models (merged from every provider, owned_by = provider) and GET /health. */
import { GatewayError } from '../core/errors.ts';
import type { ModelRegistry } from '../core/model-registry.ts';
import type { Route } from '../http/types.ts';
import type { RoutingCatalog } from '../routing/routing-catalog.ts';

const startedAtSeconds = Math.floor(Date.now() / 1000);

/**
 * Model ids as clients should send them: the bare id for the provider that serves it by bare name
 * (the first one listing it), `provider/id` for the others, so every entry routes where it says.
 */
export function publicModelIds(registry: ModelRegistry): { id: string; qualifiedId: string; provider: string }[] {
  const seen = new Set<string>();
  return registry.list().map((entry) => {
    const qualifiedId = `${entry.provider}/${entry.id}`;
    const id = seen.has(entry.id) ? qualifiedId : entry.id;
    seen.add(entry.id);
    return { id, qualifiedId, provider: entry.provider };
  });
}

interface ListedModel {
  id: string;
  owned_by: string;
}

/**
 * What GET /v1/models lists: the providers' models that are enabled (model overrides), then aliases
 * (owned by the provider of their target when it names one) and virtual models (owned by
 * `modelgate`); with KEEP_ONLY_ALIASES_AT_MODELS_ENDPOINT only aliases and virtual models.
 */
export function listedModels(registry: ModelRegistry, catalog: RoutingCatalog | undefined): ListedModel[] {
  const listed: ListedModel[] = [];
  if (!catalog?.config.keepOnlyAliasesAtModelsEndpoint) {
    for (const { id, qualifiedId, provider } of publicModelIds(registry)) {
      if (catalog && !catalog.isEnabled(provider, qualifiedId.slice(provider.length + 1))) continue;
      listed.push({ id, owned_by: provider });
    }
  }
  if (catalog) {
    const taken = new Set(listed.map((model) => model.id));
    for (const alias of catalog.aliases()) {
      if (taken.has(alias.name)) continue;
      const slash = alias.target.indexOf('/');
      const provider = slash > 0 ? alias.target.slice(0, slash) : null;
      const owner = provider && registry.providers.some((candidate) => candidate.name === provider) ? provider : 'modelgate';
      listed.push({ id: alias.name, owned_by: owner });
    }
    for (const virtual of catalog.virtualModels()) if (!taken.has(virtual.name)) listed.push({ id: virtual.name, owned_by: 'modelgate' });
  }
  return listed;
}

export function createModelsRoutes(registry: ModelRegistry, catalog?: RoutingCatalog): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/models',
      authenticated: true,
      handler: async () => {
        await registry.ready();
        return {
          kind: 'json',
          status: 200,
          body: {
            object: 'list',
            data: listedModels(registry, catalog).map(({ id, owned_by }) => ({ id, object: 'model', created: startedAtSeconds, owned_by })),
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/models/*',
      authenticated: true,
      handler: async (request) => {
        const id = request.params['*'] ?? '';
        await registry.ready();
        const listed = listedModels(registry, catalog);
        const qualified = publicModelIds(registry).find((model) => model.qualifiedId === id);
        const entry = listed.find((model) => model.id === id) ?? (qualified && listed.find((model) => model.id === qualified.id));
        if (!entry) {
          throw new GatewayError(`The model '${id}' does not exist`, { status: 404, code: 'model_not_found', param: 'model' });
        }
        return { kind: 'json', status: 200, body: { id: entry.id, object: 'model', created: startedAtSeconds, owned_by: entry.owned_by } };
      },
    },
    {
      method: 'GET',
      path: '/health',
      authenticated: false,
      handler: async () => ({
        kind: 'json',
        status: 200,
        body: {
          status: 'ok',
          providers: registry.providers.length,
          models: registry.list().length,
          // False until the first fetch of the providers' model lists has ended (the gateway listens before).
          models_listed: registry.listed,
          // Names only: this endpoint needs no key, so reasons (upstream messages) stay in the logs.
          providers_without_models: Object.keys(registry.failures()),
        },
      }),
    },
  ];
}
