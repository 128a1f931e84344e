/**
 * OpenAPI paths of the resilience admin API, generated from the zod schemas the routes validate with
 * (zod 4's JSON Schema output), merged into /openapi.json by src/admin/openapi.ts.
 */
import { z } from 'zod';
import { adminPrefix } from '../admin/admin-routes.ts';
import { fallbackEntrySchema, fallbackInputSchema, providerStatusSchema } from './resilience-admin-routes.ts';

type Schema = Record<string, unknown>;

function schema(type: z.ZodType, io: 'input' | 'output' = 'output'): Schema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(type, { io, unrepresentable: 'any' }) as Schema;
  return rest;
}

const errors = (...statuses: number[]): Schema =>
  Object.fromEntries(
    statuses.map((status) => [String(status), { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }]),
  );

const ok = (description: string, type: z.ZodType): Schema => ({ description, content: { 'application/json': { schema: schema(type) } } });

const list = (item: z.ZodType) => z.object({ object: z.literal('list'), data: z.array(item) });

export function resilienceOpenApiPaths(): Record<string, Schema> {
  const tags = ['Admin'];
  return {
    [`${adminPrefix}/fallbacks`]: {
      get: { tags, summary: 'Fallback lists (from the configuration and stored through the admin API)', responses: { '200': ok('Lists', list(fallbackEntrySchema)), ...errors(401) } },
      post: {
        tags,
        summary: 'Create or replace the fallback list of a model (stored in the database; every replica sees it within seconds)',
        requestBody: { required: true, content: { 'application/json': { schema: schema(fallbackInputSchema, 'input') } } },
        responses: { '200': ok('Stored list', fallbackEntrySchema), ...errors(400, 401, 503) },
      },
      delete: {
        tags,
        summary: 'Delete the fallback list stored for a model',
        parameters: [{ name: 'model', in: 'query', required: true, schema: { type: 'string' } }],
        responses: { '200': ok('Deleted', z.object({ model: z.string(), deleted: z.literal(true) })), ...errors(400, 401, 404, 409) },
      },
    },
    [`${adminPrefix}/providers/status`]: {
      get: {
        tags,
        summary: 'Per provider: models, last model-list error, key pool, and per target circuit state, in-flight calls and mean latency',
        responses: { '200': ok('Status', list(providerStatusSchema)), ...errors(401) },
      },
    },
    [`${adminPrefix}/runtime/refresh`]: {
      post: {
        tags,
        summary: 'Fetch every model list again and put excluded or cooling keys back',
        responses: { '200': ok('Refreshed', z.object({ refreshed: z.literal(true), providers: z.array(providerStatusSchema) })), ...errors(401) },
      },
    },
  };
}
