/**
 * Admin routes of a resource defined in config.yaml and through the admin API, stored in a versioned
 * store (src/storage/versioned-store.ts); guardrails and workflows use them. Under /admin/api/v1/<plural>:
 * - GET /<plural>: every definition in force (`source` config or admin, `version` for stored ones)
 * - POST /<plural>: create or replace one (the body is a definition, as in config.yaml): a new version
 * - GET /<plural>/{name}, PUT /<plural>/{name} (replace: a new version), DELETE /<plural>/{name} (a new
 *   version without definition)
 * - GET /<plural>/{name}/versions: every stored version, oldest first
 * A stored definition replaces a configured one of the same name; deleting it brings the configured one back.
 * No route changes or removes a stored version.
 */
import { z } from 'zod';
import { GatewayError, invalidRequest } from '../core/errors.ts';
import type { GatewayRequest, JsonReply, Route } from '../http/types.ts';
import type { StoredVersion, VersionedStore } from '../storage/versioned-store.ts';
import { adminPrefix } from './admin-routes.ts';
import { documentOperations } from './openapi-registry.ts';

export interface VersionedResource<T extends { name: string }> {
  /** Singular, capitalised, for messages: `Guardrail`. */
  noun: string;
  /** Path segment: `guardrails`. */
  plural: string;
  /** OpenAPI tag. */
  tag: string;
  schema: z.ZodType<T>;
  nameSchema: z.ZodType<string>;
  /** A problem the schema cannot express: `{ param, message }`, or null. */
  check?(definition: T): { param: string; message: string } | null;
  /** The definition as the API shows it (write-only values hidden). */
  show?(definition: T): T;
  configured: readonly T[];
  stored(): readonly StoredVersion<T>[];
  store(): VersionedStore<T> | null;
  /** Called after each write: reload this replica and tell the others. */
  changed(): Promise<void>;
}

const list = <T extends z.ZodType>(item: T) => z.object({ object: z.literal('list'), data: z.array(item) });

/** Registers the resource's operations in /openapi.json. */
export function documentVersionedResource(
  resource: Pick<VersionedResource<{ name: string }>, 'plural' | 'tag' | 'noun'>,
  schema: z.ZodType,
): void {
  const { plural, tag, noun } = resource;
  const lower = noun.toLowerCase();
  const entrySchema = z.intersection(
    schema,
    z.object({
      source: z.enum(['config', 'admin']),
      version: z.number().int().nullable().describe('Stored version; null for config.yaml'),
    }),
  );
  const versionSchema = z.object({
    name: z.string(),
    version: z.number().int(),
    definition: schema.nullable().describe(`null: this version deleted the ${lower}`),
    created_at: z.string().describe('ISO 8601'),
  });
  const deleted = z.object({ name: z.string(), deleted: z.literal(true), version: z.number().int() });
  const nameParameter = [{ name: 'name', in: 'path' as const }];
  const base = `${adminPrefix}/${plural}`;
  documentOperations(
    { method: 'get', path: base, tag, summary: `List ${plural} in force`, response: list(entrySchema) },
    {
      method: 'post',
      path: base,
      tag,
      summary: `Create or replace a ${lower} (a new version)`,
      request: schema,
      response: entrySchema,
      errors: [400, 401, 409, 503],
    },
    { method: 'get', path: `${base}/{name}`, tag, summary: `Get a ${lower}`, parameters: nameParameter, response: entrySchema },
    {
      method: 'put',
      path: `${base}/{name}`,
      tag,
      summary: `Replace a ${lower} (a new version)`,
      parameters: nameParameter,
      request: schema,
      response: entrySchema,
      errors: [400, 401, 409, 503],
    },
    {
      method: 'delete',
      path: `${base}/{name}`,
      tag,
      summary: `Delete a stored ${lower} (a new version without definition)`,
      parameters: nameParameter,
      response: deleted,
      errors: [401, 404, 409, 503],
    },
    {
      method: 'get',
      path: `${base}/{name}/versions`,
      tag,
      summary: `Every stored version of a ${lower}`,
      parameters: nameParameter,
      response: list(versionSchema),
    },
  );
}

function json(body: unknown, status = 200): JsonReply {
  return { kind: 'json', status, body };
}

export function createVersionedAdminRoutes<T extends { name: string }>(resource: VersionedResource<T>): Route[] {
  const { noun, plural } = resource;
  const show = resource.show ?? ((definition: T) => definition);
  const notFound = (name: string) => new GatewayError(`${noun} '${name}' not found`, { status: 404, code: 'not_found', retryable: false });
  const store = (): VersionedStore<T> => {
    const found = resource.store();
    if (!found)
      throw new GatewayError(`${noun} changes need the gateway database, which is not open`, { status: 503, code: 'storage_unavailable' });
    return found;
  };

  function parse(body: unknown, name?: string): T {
    const input = name !== undefined && body && typeof body === 'object' && !Array.isArray(body) ? { name, ...(body as object) } : body;
    const result = resource.schema.safeParse(input ?? {});
    if (!result.success) {
      const issue = result.error.issues[0];
      const param = issue?.path.join('.') || null;
      throw invalidRequest(`${param ? `${param}: ` : ''}${issue?.message ?? `invalid ${noun.toLowerCase()}`}`, param, 'invalid_value');
    }
    if (name !== undefined && result.data.name !== name) throw invalidRequest('name: must match the path', 'name', 'invalid_value');
    const problem = resource.check?.(result.data);
    if (problem) throw invalidRequest(`${problem.param}: ${problem.message}`, problem.param, 'invalid_value');
    return result.data;
  }

  const entries = () => {
    const stored = resource.stored();
    const storedNames = new Set(stored.map((entry) => entry.name));
    return [
      ...resource.configured
        .filter((definition) => !storedNames.has(definition.name))
        .map((definition) => ({ ...show(definition), source: 'config', version: null })),
      ...stored.map((entry) => ({ ...show(entry.definition as T), source: 'admin', version: entry.version })),
    ];
  };
  const entry = (name: string) => entries().find((candidate) => candidate.name === name);
  const route = (method: Route['method'], path: string, handler: (request: GatewayRequest) => Promise<JsonReply>): Route => ({
    method,
    path: `${adminPrefix}/${plural}${path}`,
    authenticated: true,
    handler,
  });

  async function write(name: string, definition: T | null): Promise<number> {
    const version = await store().write(name, definition);
    if (version === null) {
      throw new GatewayError(`${noun} '${name}' was changed at the same moment; read it again and retry`, {
        status: 409,
        code: 'version_conflict',
      });
    }
    await resource.changed();
    return version;
  }

  async function put(definition: T): Promise<JsonReply> {
    await write(definition.name, definition);
    return json(entry(definition.name));
  }

  const versionEntry = (stored: StoredVersion<T>) => ({
    name: stored.name,
    version: stored.version,
    definition: stored.definition ? show(stored.definition) : null,
    created_at: new Date(stored.createdAt).toISOString(),
  });

  return [
    route('GET', '', async () => json({ object: 'list', data: entries() })),
    route('POST', '', async (request) => put(parse(request.body))),
    route('GET', '/:name', async (request) => {
      const name = request.params.name ?? '';
      const found = entry(name);
      if (!found) throw notFound(name);
      return json(found);
    }),
    route('PUT', '/:name', async (request) => {
      const name = resource.nameSchema.safeParse(request.params.name);
      if (!name.success) throw invalidRequest(`name: not a ${noun.toLowerCase()} name`, 'name', 'invalid_value');
      return put(parse(request.body, name.data));
    }),
    route('DELETE', '/:name', async (request) => {
      const name = request.params.name ?? '';
      const found = entry(name);
      if (!found) throw notFound(name);
      if (found.source === 'config') {
        throw new GatewayError(`${noun} '${name}' is defined in the configuration; change it there`, {
          status: 409,
          code: 'defined_in_config',
        });
      }
      const version = await write(name, null);
      return json({ name, deleted: true, version });
    }),
    route('GET', '/:name/versions', async (request) => {
      const name = request.params.name ?? '';
      const history = await store().history(name);
      if (history.length === 0) throw notFound(name);
      return json({ object: 'list', data: history.map(versionEntry) });
    }),
  ];
}
