/** GET /v1/models (merged from every provider, owned_by = provider) and GET /health. */
import { GatewayError } from '../core/errors.ts';
import type { ModelRegistry } from '../core/model-registry.ts';
import type { Route } from '../http/types.ts';

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

export function createModelsRoutes(registry: ModelRegistry): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/models',
      authenticated: true,
      handler: async () => ({
        kind: 'json',
        status: 200,
        body: {
          object: 'list',
          data: publicModelIds(registry).map(({ id, provider }) => ({
            id,
            object: 'model',
            created: startedAtSeconds,
            owned_by: provider,
          })),
        },
      }),
    },
    {
      method: 'GET',
      path: '/v1/models/*',
      authenticated: true,
      handler: async (request) => {
        const id = request.params['*'] ?? '';
        const entry = publicModelIds(registry).find((model) => model.id === id || model.qualifiedId === id);
        if (!entry) {
          throw new GatewayError(`The model '${id}' does not exist`, { status: 404, code: 'model_not_found', param: 'model' });
        }
        return {
          kind: 'json',
          status: 200,
          body: { id: entry.id, object: 'model', created: startedAtSeconds, owned_by: entry.provider },
        };
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
          // Names only: this endpoint needs no key, so reasons (upstream messages) stay in the logs.
          providers_without_models: Object.keys(registry.failures()),
        },
      }),
    },
  ];
}
