/**
 * Admin API of retries, fallbacks, breakers and key pools, under /admin/api/v1 (master key required):
 * - GET/POST/DELETE /fallbacks: fallback lists stored in the database (config ones are listed, read-only);
 * - GET /providers/status: per provider its models, last model-list error, key pool and, per target,
 *   circuit state, in-flight calls and mean latency;
 * - POST /runtime/refresh: fetches every model list again and puts excluded or cooling keys back.
 */
import { z } from 'zod';
import { adminPrefix } from '../admin/admin-routes.ts';
import { documentOperations } from '../admin/openapi-registry.ts';
import { GatewayError, invalidRequest } from '../core/errors.ts';
import type { ModelRegistry } from '../core/model-registry.ts';
import type { GatewayRequest, JsonReply, Route } from '../http/types.ts';
import type { Provider } from '../providers/types.ts';
import type { CircuitBreakers } from './circuit-breakers.ts';
import type { FallbackLists } from './fallback-store.ts';
import type { KeyPool } from './key-pool.ts';

const modelName = z.string().min(1).max(256).regex(/^\S+$/, 'a model name has no spaces');

export const fallbackInputSchema = z
  .object({ model: modelName, fallbacks: z.array(modelName).min(1).max(32) })
  .strict();

export const fallbackEntrySchema = z.object({ model: z.string(), fallbacks: z.array(z.string()), source: z.enum(['config', 'admin']) });

export const providerStatusSchema = z.object({
  name: z.string(),
  type: z.string(),
  models: z.array(z.string()),
  last_list_error: z.string().nullable(),
  native_responses_missing: z.boolean(),
  keys: z
    .array(
      z.object({
        key: z.string(),
        weight: z.number(),
        state: z.enum(['available', 'cooling_down', 'excluded']),
        cool_down_ms: z.number().nullable(),
        reason: z.string().nullable(),
        requests: z.number(),
      }),
    )
    .nullable(),
  targets: z.array(
    z.object({
      model: z.string(),
      circuit: z.enum(['closed', 'open', 'half-open']),
      consecutive_failures: z.number(),
      retry_in_ms: z.number(),
      in_flight: z.number(),
      latency_ms: z.number().nullable(),
    }),
  ),
});

const list = <T extends z.ZodType>(item: T) => z.object({ object: z.literal('list'), data: z.array(item) });
const tag = 'Admin: resilience';
documentOperations(
  { method: 'get', path: `${adminPrefix}/fallbacks`, tag, summary: 'Fallback lists (from the configuration and stored through the admin API)', response: list(fallbackEntrySchema), errors: [401] },
  {
    method: 'post',
    path: `${adminPrefix}/fallbacks`,
    tag,
    summary: 'Create or replace the fallback list of a model (stored in the database; every replica sees it within seconds)',
    request: fallbackInputSchema,
    response: fallbackEntrySchema,
    errors: [400, 401, 503],
  },
  {
    method: 'delete',
    path: `${adminPrefix}/fallbacks`,
    tag,
    summary: 'Delete the fallback list stored for a model',
    parameters: [{ name: 'model', in: 'query', required: true }],
    response: z.object({ model: z.string(), deleted: z.literal(true) }),
    errors: [400, 401, 404, 409],
  },
  {
    method: 'get',
    path: `${adminPrefix}/providers/status`,
    tag,
    summary: 'Per provider: models, last model-list error, key pool, and per target circuit state, in-flight calls and mean latency',
    response: list(providerStatusSchema),
    errors: [401],
  },
  {
    method: 'post',
    path: `${adminPrefix}/runtime/refresh`,
    tag,
    summary: 'Fetch every model list again and put excluded or cooling keys back',
    response: z.object({ refreshed: z.literal(true), providers: z.array(providerStatusSchema) }),
    errors: [401],
  },
);

export interface ResilienceAdminOptions {
  registry: ModelRegistry;
  providers: readonly Provider[];
  lists: FallbackLists;
  breakers: CircuitBreakers | null;
  keyPools: ReadonlyMap<string, KeyPool>;
  nativeResponsesMissing(): string[];
}

function json(body: unknown): JsonReply {
  return { kind: 'json', status: 200, body };
}

function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue?.path.join('.') || null;
  throw invalidRequest(`${param ? `${param}: ` : ''}${issue?.message ?? 'invalid request body'}`, param, 'invalid_value');
}

export function providersStatus(options: ResilienceAdminOptions): z.infer<typeof providerStatusSchema>[] {
  const failures = options.registry.failures();
  const entries = options.registry.list();
  const missing = new Set(options.nativeResponsesMissing());
  const breakers = options.breakers?.all() ?? [];
  return options.providers.map((provider) => ({
    name: provider.name,
    type: provider.type,
    models: entries.filter((entry) => entry.provider === provider.name).map((entry) => entry.id),
    last_list_error: failures[provider.name] ?? null,
    native_responses_missing: missing.has(provider.name),
    keys: options.keyPools.get(provider.name)?.status() ?? null,
    targets: breakers
      .filter((breaker) => breaker.provider === provider.name)
      .map((breaker) => ({
        model: breaker.model,
        circuit: breaker.state(),
        consecutive_failures: breaker.consecutiveFailures,
        retry_in_ms: Math.ceil(breaker.retryInMs()),
        in_flight: breaker.inFlight,
        latency_ms: breaker.latencyMs === null ? null : Math.round(breaker.latencyMs * 10) / 10,
      })),
  }));
}

export function createResilienceAdminRoutes(options: ResilienceAdminOptions): Route[] {
  const { lists } = options;
  const route = (method: Route['method'], path: string, handler: (request: GatewayRequest) => Promise<JsonReply>): Route => ({
    method,
    path: `${adminPrefix}${path}`,
    authenticated: true,
    handler,
  });
  const requireStore = () => {
    if (!lists.attached()) {
      throw new GatewayError('Fallback changes need the gateway database, which is not open', { status: 503, code: 'storage_unavailable' });
    }
  };
  return [
    route('GET', '/fallbacks', async () => json({ object: 'list', data: lists.entries() })),
    route('POST', '/fallbacks', async (request) => {
      const input = parseBody(fallbackInputSchema, request.body);
      if (input.fallbacks.includes(input.model)) throw invalidRequest('A model cannot fall back to itself', 'fallbacks', 'invalid_value');
      requireStore();
      await lists.put(input.model, input.fallbacks);
      return json(lists.entries().find((entry) => entry.model === input.model));
    }),
    route('DELETE', '/fallbacks', async (request) => {
      const model = request.query.model ?? '';
      if (!model) throw invalidRequest("Query parameter 'model' is required", 'model', 'missing_required_parameter');
      requireStore();
      if (!(await lists.remove(model))) {
        const configured = lists.entries().some((entry) => entry.model === model);
        throw configured
          ? new GatewayError(`The fallbacks of '${model}' are defined in the configuration; change them there`, { status: 409, code: 'defined_in_config' })
          : new GatewayError(`Fallbacks for '${model}' not found`, { status: 404, code: 'not_found' });
      }
      return json({ model, deleted: true });
    }),
    route('GET', '/providers/status', async () => json({ object: 'list', data: providersStatus(options) })),
    route('POST', '/runtime/refresh', async () => {
      await options.registry.refresh();
      for (const pool of options.keyPools.values()) pool.refresh();
      if (lists.attached()) await lists.reload();
      return json({ refreshed: true, providers: providersStatus(options) });
    }),
  ];
}
