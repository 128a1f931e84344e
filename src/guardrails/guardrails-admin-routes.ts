/**
 * Admin API for guardrails, under /admin/api/v1 (master key or an admin-scoped key):
 * - GET /guardrails: every guardrail in force (`source` config or admin, `version` for stored ones)
 * - POST /guardrails: create or replace one (the body is a guardrail definition, as in config.yaml)
 * - GET /guardrails/{name}, PUT /guardrails/{name} (replace), DELETE /guardrails/{name}
 * - GET /guardrails/{name}/versions: every stored version (a deletion is a version without definition)
 * Stored in the database, versioned, and in force on every replica within GUARDRAILS_REFRESH_SECONDS.
 * A stored guardrail replaces a configured one of the same name; deleting it brings the configured one
 * back. Webhook header values are write-only: they are shown as "[redacted]".
 */
import { z } from 'zod';
import { adminPrefix } from '../admin/admin-routes.ts';
import { documentOperations } from '../admin/openapi-registry.ts';
import { GatewayError, invalidRequest } from '../core/errors.ts';
import type { GatewayRequest, JsonReply, Route } from '../http/types.ts';
import { type GuardrailDefinition, guardrailDefinitionSchema, guardrailNameSchema, phaseProblem } from './guardrails-config.ts';
import type { GuardrailsEngine } from './guardrails-engine.ts';
import type { GuardrailsStore, StoredGuardrail } from './guardrails-store.ts';

const entrySchema = z.intersection(
  guardrailDefinitionSchema,
  z.object({ source: z.enum(['config', 'admin']), version: z.number().int().nullable().describe('Stored version; null for config.yaml') }),
);
const versionSchema = z.object({
  name: z.string(),
  version: z.number().int(),
  definition: guardrailDefinitionSchema.nullable().describe('null: this version deleted the guardrail'),
  created_at: z.string().describe('ISO 8601'),
});
const list = <T extends z.ZodType>(item: T) => z.object({ object: z.literal('list'), data: z.array(item) });
const deleted = z.object({ name: z.string(), deleted: z.literal(true), version: z.number().int() });

const tag = 'Admin: guardrails';
const nameParameter = [{ name: 'name', in: 'path' as const }];
documentOperations(
  { method: 'get', path: `${adminPrefix}/guardrails`, tag, summary: 'List guardrails in force', response: list(entrySchema) },
  {
    method: 'post',
    path: `${adminPrefix}/guardrails`,
    tag,
    summary: 'Create or replace a guardrail (a new version)',
    request: guardrailDefinitionSchema,
    response: entrySchema,
    errors: [400, 401, 409, 503],
  },
  {
    method: 'get',
    path: `${adminPrefix}/guardrails/{name}`,
    tag,
    summary: 'Get a guardrail',
    parameters: nameParameter,
    response: entrySchema,
  },
  {
    method: 'put',
    path: `${adminPrefix}/guardrails/{name}`,
    tag,
    summary: 'Replace a guardrail (a new version)',
    parameters: nameParameter,
    request: guardrailDefinitionSchema,
    response: entrySchema,
    errors: [400, 401, 409, 503],
  },
  {
    method: 'delete',
    path: `${adminPrefix}/guardrails/{name}`,
    tag,
    summary: 'Delete a stored guardrail (a new version without definition)',
    parameters: nameParameter,
    response: deleted,
    errors: [401, 404, 409, 503],
  },
  {
    method: 'get',
    path: `${adminPrefix}/guardrails/{name}/versions`,
    tag,
    summary: 'Every stored version of a guardrail',
    parameters: nameParameter,
    response: list(versionSchema),
  },
);

function parseDefinition(body: unknown, name?: string): GuardrailDefinition {
  const input = name !== undefined && body && typeof body === 'object' && !Array.isArray(body) ? { name, ...(body as object) } : body;
  const result = guardrailDefinitionSchema.safeParse(input ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    const param = issue?.path.join('.') || null;
    throw invalidRequest(`${param ? `${param}: ` : ''}${issue?.message ?? 'invalid guardrail'}`, param, 'invalid_value');
  }
  if (name !== undefined && result.data.name !== name) throw invalidRequest('name: must match the path', 'name', 'invalid_value');
  const problem = phaseProblem(result.data);
  if (problem) throw invalidRequest(`phase: ${problem}`, 'phase', 'invalid_value');
  return result.data;
}

/** A definition as the admin API shows it: webhook header values hidden. */
function shown(definition: GuardrailDefinition): GuardrailDefinition {
  if (definition.type !== 'webhook') return definition;
  return { ...definition, headers: Object.fromEntries(Object.keys(definition.headers).map((key) => [key, '[redacted]'])) };
}

function json(body: unknown, status = 200): JsonReply {
  return { kind: 'json', status, body };
}

function notFound(name: string): GatewayError {
  return new GatewayError(`Guardrail '${name}' not found`, { status: 404, code: 'not_found', retryable: false });
}

export function createGuardrailsAdminRoutes(engine: GuardrailsEngine): Route[] {
  const store = (): GuardrailsStore => {
    const found = engine.store();
    if (!found)
      throw new GatewayError('Guardrail changes need the gateway database, which is not open', {
        status: 503,
        code: 'storage_unavailable',
      });
    return found;
  };
  const entries = () => {
    const stored = engine.stored();
    const storedNames = new Set(stored.map((entry) => entry.name));
    return [
      ...engine.configured
        .filter((definition) => !storedNames.has(definition.name))
        .map((definition) => ({ ...shown(definition), source: 'config', version: null })),
      ...stored.map((entry) => ({ ...shown(entry.definition as GuardrailDefinition), source: 'admin', version: entry.version })),
    ];
  };
  const entry = (name: string) => entries().find((candidate) => candidate.name === name);
  const route = (method: Route['method'], path: string, handler: (request: GatewayRequest) => Promise<JsonReply>): Route => ({
    method,
    path: `${adminPrefix}${path}`,
    authenticated: true,
    handler,
  });

  async function write(name: string, definition: GuardrailDefinition | null): Promise<number> {
    const version = await store().write(name, definition);
    if (version === null) {
      throw new GatewayError(`Guardrail '${name}' was changed at the same moment; read it again and retry`, {
        status: 409,
        code: 'version_conflict',
      });
    }
    await engine.reload();
    return version;
  }

  async function put(definition: GuardrailDefinition): Promise<JsonReply> {
    await write(definition.name, definition);
    return json(entry(definition.name));
  }

  const versionEntry = (stored: StoredGuardrail) => ({
    name: stored.name,
    version: stored.version,
    definition: stored.definition ? shown(stored.definition) : null,
    created_at: new Date(stored.createdAt).toISOString(),
  });

  return [
    route('GET', '/guardrails', async () => json({ object: 'list', data: entries() })),
    route('POST', '/guardrails', async (request) => put(parseDefinition(request.body))),
    route('GET', '/guardrails/:name', async (request) => {
      const name = request.params.name ?? '';
      const found = entry(name);
      if (!found) throw notFound(name);
      return json(found);
    }),
    route('PUT', '/guardrails/:name', async (request) => {
      const name = guardrailNameSchema.safeParse(request.params.name);
      if (!name.success) throw invalidRequest('name: not a guardrail name', 'name', 'invalid_value');
      return put(parseDefinition(request.body, name.data));
    }),
    route('DELETE', '/guardrails/:name', async (request) => {
      const name = request.params.name ?? '';
      const found = entry(name);
      if (!found) throw notFound(name);
      if (found.source === 'config') {
        throw new GatewayError(`Guardrail '${name}' is defined in the configuration; change it there`, {
          status: 409,
          code: 'defined_in_config',
        });
      }
      const version = await write(name, null);
      return json({ name, deleted: true, version });
    }),
    route('GET', '/guardrails/:name/versions', async (request) => {
      const name = request.params.name ?? '';
      const history = await store().history(name);
      if (history.length === 0) throw notFound(name);
      return json({ object: 'list', data: history.map(versionEntry) });
    }),
  ];
}
