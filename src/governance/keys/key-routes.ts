/**
 * Managed-key admin API under /admin/api/v1/keys: create (the secret is in that response only), list,
 * read, update, rotate, deactivate and delete (revoke). Update is POST on the key, as OpenAI's admin
 * API modifies objects (https://platform.openai.com/docs/api-reference/projects/modify).
 */
import type { z } from 'zod';
import { adminPrefix } from '../../admin/admin-routes.ts';
import { GatewayError, invalidRequest } from '../../core/errors.ts';
import type { GatewayRequest, JsonReply, Route } from '../../http/types.ts';
import { limitSetFromYaml, limitSetToYaml } from '../limits/rate-limit-config.ts';
import type { KeyFields, KeyStore } from './key-store.ts';
import { createKeyRequest, type keyObject, updateKeyRequest } from './key-schemas.ts';
import { keyRefusal, type ManagedKey, managedKeyPrefix } from './managed-key.ts';

const iso = (time: number | null) => (time === null ? null : new Date(time).toISOString());

export function presentKey(key: ManagedKey, now: number): z.infer<typeof keyObject> {
  const refusal = keyRefusal(key, now);
  return {
    object: 'api_key',
    id: key.id,
    name: key.name,
    key_hint: `${managedKeyPrefix}...${key.secretSuffix}`,
    status: refusal === null ? 'active' : (refusal as 'deactivated' | 'expired' | 'revoked'),
    scopes: key.scopes,
    allowed_models: key.allowedModels,
    denied_models: key.deniedModels,
    user: key.user,
    team: key.team,
    tags: key.tags,
    rate_limits: limitSetToYaml(key.rateLimits),
    active: key.active,
    created_at: iso(key.createdAt) as string,
    updated_at: iso(key.updatedAt) as string,
    expires_at: iso(key.expiresAt),
    revoked_at: iso(key.revokedAt),
    last_rotated_at: iso(key.lastRotatedAt),
  };
}

/** Parses a JSON body with a zod schema; the first problem becomes a 400 naming the field. */
export function parseBody<Schema extends z.ZodType>(schema: Schema, body: unknown): z.infer<Schema> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue?.path.join('.') || null;
  const unknown = issue && 'keys' in issue ? `: ${(issue.keys as string[]).join(', ')}` : '';
  throw invalidRequest(`${param ? `'${param}': ` : ''}${issue?.message ?? 'invalid request body'}${unknown}`, param, 'invalid_value');
}

function fieldsOf(body: z.infer<typeof createKeyRequest>): KeyFields {
  const fields: KeyFields = {};
  if (body.name !== undefined) fields.name = body.name;
  if (body.scopes !== undefined) fields.scopes = [...new Set(body.scopes)];
  if (body.allowed_models !== undefined) fields.allowedModels = body.allowed_models;
  if (body.denied_models !== undefined) fields.deniedModels = body.denied_models;
  if (body.user !== undefined) fields.user = body.user;
  if (body.team !== undefined) fields.team = body.team;
  if (body.tags !== undefined) fields.tags = [...new Set(body.tags)];
  if (body.rate_limits !== undefined) fields.rateLimits = limitSetFromYaml(body.rate_limits);
  if (body.active !== undefined) fields.active = body.active;
  if (body.expires_at !== undefined) fields.expiresAt = body.expires_at === null ? null : Date.parse(body.expires_at);
  return fields;
}

function keyNotFound(id: string): GatewayError {
  return new GatewayError(`API key '${id}' not found`, { status: 404, code: 'key_not_found', param: 'id', retryable: false });
}

export function createKeyRoutes(store: KeyStore, now: () => number = Date.now): Route[] {
  const reply = (body: unknown, status = 200): JsonReply => ({ kind: 'json', status, body, headers: { 'cache-control': 'no-store' } });
  const route = (method: Route['method'], path: string, handler: (request: GatewayRequest) => Promise<JsonReply>): Route => ({
    method,
    path: `${adminPrefix}/keys${path}`,
    authenticated: true,
    handler: async (request) => {
      try {
        return await handler(request);
      } catch (error) {
        if (error instanceof GatewayError) throw error;
        throw new GatewayError('The key database is unavailable', { status: 503, code: 'storage_unavailable', cause: error });
      }
    },
  });
  const idOf = (request: GatewayRequest) => request.params.id ?? '';
  const found = (id: string, key: ManagedKey | undefined) => {
    if (!key) throw keyNotFound(id);
    return key;
  };
  return [
    route('POST', '', async (request) => {
      const fields = fieldsOf(parseBody(createKeyRequest, request.body));
      const { key, secret } = await store.create(fields);
      return reply({ ...presentKey(key, now()), key: secret }, 201);
    }),
    route('GET', '', async (request) => {
      const includeRevoked = request.query.include_revoked === 'true';
      const keys = await store.list({ includeRevoked });
      return reply({ object: 'list', data: keys.map((key) => presentKey(key, now())) });
    }),
    route('GET', '/:id', async (request) => {
      const id = idOf(request);
      return reply(presentKey(found(id, await store.find(id)), now()));
    }),
    route('POST', '/:id', async (request) => {
      const id = idOf(request);
      const fields = fieldsOf(parseBody(updateKeyRequest, request.body));
      return reply(presentKey(found(id, await store.update(id, fields)), now()));
    }),
    route('POST', '/:id/rotate', async (request) => {
      const id = idOf(request);
      const rotated = await store.rotate(id);
      const key = found(id, rotated?.key);
      return reply({ ...presentKey(key, now()), key: rotated?.secret });
    }),
    route('POST', '/:id/deactivate', async (request) => {
      const id = idOf(request);
      return reply(presentKey(found(id, await store.update(id, { active: false })), now()));
    }),
    route('DELETE', '/:id', async (request) => {
      const id = idOf(request);
      found(id, await store.revoke(id));
      return reply({ object: 'api_key.deleted', id, deleted: true });
    }),
  ];
}
