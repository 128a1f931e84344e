/**
 * Admin API for routing, under /admin/api/v1 (master key required when set):
 * - /aliases: GET (list), POST (create or replace {name, target}), GET/PUT/DELETE /aliases/{name}
 * - /virtual-models: GET, POST ({name, strategy, targets, session_affinity}), GET/PUT/DELETE /virtual-models/{name}
 * - /model-overrides: GET, PUT ({provider, model, enabled}), DELETE ?provider=&model=
 * Entries are stored in the database and seen by every replica within ROUTING_REFRESH_SECONDS.
 * Entries from the configuration are listed with `source: "config"`; an admin entry of the same
 * name takes precedence, and deleting the admin entry brings the configured one back.
 */
import { z } from 'zod';
import { adminPrefix } from '../admin/admin-routes.ts';
import { documentOperations } from '../admin/openapi-registry.ts';
import { GatewayError, invalidRequest } from '../core/errors.ts';
import type { GatewayRequest, JsonReply, Route } from '../http/types.ts';
import type { RoutingCatalog } from './routing-catalog.ts';
import { modelNameSchema, modelOverrideSchema, virtualModelSchema } from './routing-config.ts';
import type { RoutingStore } from './routing-store.ts';
import { maxAliasDepth } from './stages/alias-stage.ts';

const sourceSchema = z.enum(['config', 'admin']);
const aliasSchema = z.object({ name: modelNameSchema, target: modelNameSchema, source: sourceSchema });
const aliasInput = z.object({ name: modelNameSchema, target: modelNameSchema }).strict();
const aliasUpdate = z.object({ target: modelNameSchema }).strict();
const virtualModelEntry = virtualModelSchema.extend({ name: modelNameSchema, source: sourceSchema });
const virtualModelInput = virtualModelSchema.extend({ name: modelNameSchema }).strict();
const overrideEntry = modelOverrideSchema.extend({ source: sourceSchema });
const deleted = z.object({ name: z.string(), deleted: z.literal(true) });
const list = <T extends z.ZodType>(item: T) => z.object({ object: z.literal('list'), data: z.array(item) });

const tag = 'Admin: routing';
const nameParameter = [{ name: 'name', in: 'path' as const }];
documentOperations(
  { method: 'get', path: `${adminPrefix}/aliases`, tag, summary: 'List model aliases', response: list(aliasSchema) },
  {
    method: 'post',
    path: `${adminPrefix}/aliases`,
    tag,
    summary: 'Create or replace an alias',
    request: aliasInput,
    response: aliasSchema,
  },
  { method: 'get', path: `${adminPrefix}/aliases/{name}`, tag, summary: 'Get an alias', parameters: nameParameter, response: aliasSchema },
  {
    method: 'put',
    path: `${adminPrefix}/aliases/{name}`,
    tag,
    summary: 'Set the target of an alias',
    parameters: nameParameter,
    request: aliasUpdate,
    response: aliasSchema,
  },
  {
    method: 'delete',
    path: `${adminPrefix}/aliases/{name}`,
    tag,
    summary: 'Delete an alias stored through the admin API',
    parameters: nameParameter,
    response: deleted,
    errors: [401, 404, 409],
  },
  { method: 'get', path: `${adminPrefix}/virtual-models`, tag, summary: 'List virtual models', response: list(virtualModelEntry) },
  {
    method: 'post',
    path: `${adminPrefix}/virtual-models`,
    tag,
    summary: 'Create or replace a virtual model',
    request: virtualModelInput,
    response: virtualModelEntry,
  },
  {
    method: 'get',
    path: `${adminPrefix}/virtual-models/{name}`,
    tag,
    summary: 'Get a virtual model',
    parameters: nameParameter,
    response: virtualModelEntry,
  },
  {
    method: 'put',
    path: `${adminPrefix}/virtual-models/{name}`,
    tag,
    summary: 'Replace a virtual model',
    parameters: nameParameter,
    request: virtualModelSchema,
    response: virtualModelEntry,
  },
  {
    method: 'delete',
    path: `${adminPrefix}/virtual-models/{name}`,
    tag,
    summary: 'Delete a virtual model stored through the admin API',
    parameters: nameParameter,
    response: deleted,
    errors: [401, 404, 409],
  },
  { method: 'get', path: `${adminPrefix}/model-overrides`, tag, summary: 'List model overrides', response: list(overrideEntry) },
  {
    method: 'put',
    path: `${adminPrefix}/model-overrides`,
    tag,
    summary: 'Enable or disable a model of a provider (model `*`: every model of the provider)',
    request: modelOverrideSchema,
    response: overrideEntry,
  },
  {
    method: 'delete',
    path: `${adminPrefix}/model-overrides`,
    tag,
    summary: 'Delete a model override stored through the admin API',
    parameters: [
      { name: 'provider', in: 'query', required: true },
      { name: 'model', in: 'query', required: true },
    ],
    response: z.object({ provider: z.string(), model: z.string(), deleted: z.literal(true) }),
  },
);

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue?.path.join('.') || null;
  throw invalidRequest(`${param ? `${param}: ` : ''}${issue?.message ?? 'invalid request body'}`, param, 'invalid_value');
}

function notFound(what: string, name: string): GatewayError {
  return new GatewayError(`${what} '${name}' not found`, { status: 404, code: 'not_found', retryable: false });
}

function json(body: unknown, status = 200): JsonReply {
  return { kind: 'json', status, body };
}

export function createRoutingAdminRoutes(catalog: RoutingCatalog): Route[] {
  const store = (): RoutingStore => {
    const found = catalog.store();
    if (!found) {
      throw new GatewayError('Routing changes need the gateway database, which is not open', {
        status: 503,
        code: 'storage_unavailable',
      });
    }
    return found;
  };
  const route = (method: Route['method'], path: string, handler: (request: GatewayRequest) => Promise<JsonReply>): Route => ({
    method,
    path: `${adminPrefix}${path}`,
    authenticated: true,
    handler,
  });
  const aliasEntry = (name: string) => catalog.aliases().find((entry) => entry.name === name);
  const virtualEntry = (name: string) => {
    const found = catalog.virtualModels().find((entry) => entry.name === name);
    return found ? { name: found.name, ...found.definition, source: found.source } : undefined;
  };

  /** Refuses an alias that would make a cycle or clash with a virtual model. */
  function checkAlias(name: string, target: string): void {
    if (name === target) throw invalidRequest('An alias cannot point at itself', 'target', 'alias_cycle');
    const virtual = catalog.virtualModels().find((entry) => entry.name === name);
    if (virtual?.source === 'admin') {
      throw new GatewayError(`'${name}' is a virtual model; delete it first`, { status: 409, code: 'name_in_use', param: 'name' });
    }
    let current = target;
    for (let depth = 0; depth < maxAliasDepth; depth++) {
      if (current === name) throw invalidRequest(`The alias '${name}' would form a cycle`, 'target', 'alias_cycle');
      const next = catalog.aliasOf(current);
      if (next === undefined) return;
      current = next;
    }
    throw invalidRequest(`The alias chain from '${name}' is longer than ${maxAliasDepth}`, 'target', 'alias_cycle');
  }

  async function putAlias(name: string, target: string): Promise<JsonReply> {
    checkAlias(name, target);
    await store().putAlias(name, target);
    await catalog.reload();
    return json(aliasEntry(name));
  }

  async function putVirtual(name: string, definition: z.infer<typeof virtualModelSchema>): Promise<JsonReply> {
    const alias = aliasEntry(name);
    if (alias?.source === 'admin') {
      throw new GatewayError(`'${name}' is an alias; delete it first`, { status: 409, code: 'name_in_use', param: 'name' });
    }
    await store().putVirtualModel(name, definition);
    await catalog.reload();
    return json(virtualEntry(name));
  }

  async function remove(kind: 'Alias' | 'Virtual model', name: string, source: string | undefined): Promise<JsonReply> {
    if (source === undefined) throw notFound(kind, name);
    const removed = kind === 'Alias' ? await store().deleteAlias(name) : await store().deleteVirtualModel(name);
    if (!removed) {
      throw new GatewayError(`${kind} '${name}' is defined in the configuration; change it there`, {
        status: 409,
        code: 'defined_in_config',
      });
    }
    await catalog.reload();
    return json({ name, deleted: true });
  }

  return [
    route('GET', '/aliases', async () => json({ object: 'list', data: catalog.aliases() })),
    route('POST', '/aliases', async (request) => {
      const input = parse(aliasInput, request.body);
      return putAlias(input.name, input.target);
    }),
    route('GET', '/aliases/:name', async (request) => {
      const name = request.params.name ?? '';
      const found = aliasEntry(name);
      if (!found) throw notFound('Alias', name);
      return json(found);
    }),
    route('PUT', '/aliases/:name', async (request) => {
      const name = parse(modelNameSchema, request.params.name);
      return putAlias(name, parse(aliasUpdate, request.body).target);
    }),
    route('DELETE', '/aliases/:name', async (request) => {
      const name = request.params.name ?? '';
      return remove('Alias', name, aliasEntry(name)?.source);
    }),
    route('GET', '/virtual-models', async () =>
      json({
        object: 'list',
        data: catalog.virtualModels().map((entry) => ({ name: entry.name, ...entry.definition, source: entry.source })),
      }),
    ),
    route('POST', '/virtual-models', async (request) => {
      const { name, ...definition } = parse(virtualModelInput, request.body);
      return putVirtual(name, definition);
    }),
    route('GET', '/virtual-models/:name', async (request) => {
      const name = request.params.name ?? '';
      const found = virtualEntry(name);
      if (!found) throw notFound('Virtual model', name);
      return json(found);
    }),
    route('PUT', '/virtual-models/:name', async (request) => {
      const name = parse(modelNameSchema, request.params.name);
      return putVirtual(name, parse(virtualModelSchema.strict(), request.body));
    }),
    route('DELETE', '/virtual-models/:name', async (request) => {
      const name = request.params.name ?? '';
      return remove('Virtual model', name, virtualEntry(name)?.source);
    }),
    route('GET', '/model-overrides', async () => json({ object: 'list', data: catalog.overrides() })),
    route('PUT', '/model-overrides', async (request) => {
      const override = parse(modelOverrideSchema, request.body);
      await store().putOverride(override);
      await catalog.reload();
      return json({ ...override, source: 'admin' });
    }),
    route('DELETE', '/model-overrides', async (request) => {
      const provider = request.query.provider ?? '';
      const model = request.query.model ?? '';
      if (!provider || !model)
        throw invalidRequest("Query parameters 'provider' and 'model' are required", provider ? 'model' : 'provider');
      if (!(await store().deleteOverride(provider, model))) throw notFound('Model override', `${provider}/${model}`);
      await catalog.reload();
      return json({ provider, model, deleted: true });
    }),
  ];
}
