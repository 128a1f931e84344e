/**
 * GET /admin/api/v1/session: who the caller of the admin API is, so that a UI can show what it may do.
 * `master` (MODELGATE_MASTER_KEY), `managed_key` (a managed key with `admin` or `admin:read`) or `open`
 * (no master key set and no key presented). A managed key with `admin:read` but not `admin` is read-only.
 * The secret is never part of the answer; a managed key is named by its id and name.
 */
import { z } from 'zod';
import { GatewayError } from '../core/errors.ts';
import type { GatewayRequest, JsonReply, Route } from '../http/types.ts';
import { adminPrefix } from './admin-routes.ts';
import { documentOperations } from './openapi-registry.ts';

const allScopes = ['inference', 'admin', 'admin:read'] as const;

export const sessionSchema = z.object({
  kind: z.enum(['master', 'managed_key', 'open']).describe('open: no MODELGATE_MASTER_KEY is set and no key was presented'),
  key_id: z.string().nullable().describe("The managed key's id; null for the master key and open access"),
  name: z.string().nullable().describe("The managed key's name"),
  scopes: z.array(z.enum(allScopes)).describe('The master key and open access have every scope'),
  read_only: z.boolean().describe('true for a managed key with admin:read but not admin: only GETs of the admin API are allowed'),
});

export type Session = z.infer<typeof sessionSchema>;

documentOperations({
  method: 'get',
  path: `${adminPrefix}/session`,
  tag: 'Admin',
  summary: 'The caller of the admin API: master key, managed key (id, name, scopes, read-only) or open access',
  response: sessionSchema,
  errors: [401, 403],
});

/** What the session route needs to know of a managed key. */
export interface SessionKey {
  id: string;
  name: string | null;
  scopes: readonly (typeof allScopes)[number][];
}

export function describeSession(keyId: string | null, keyOf: (keyId: string) => SessionKey | undefined): Session {
  if (keyId === null) return { kind: 'open', key_id: null, name: null, scopes: [...allScopes], read_only: false };
  if (keyId.startsWith('master:')) return { kind: 'master', key_id: null, name: null, scopes: [...allScopes], read_only: false };
  const key = keyOf(keyId);
  // Deleted between authentication and this answer.
  if (!key) throw new GatewayError('Invalid API key', { status: 401, code: 'invalid_api_key', retryable: false });
  return { kind: 'managed_key', key_id: key.id, name: key.name, scopes: [...key.scopes], read_only: !key.scopes.includes('admin') };
}

export function createSessionRoute(keyOf: (keyId: string) => SessionKey | undefined): Route {
  return {
    method: 'GET',
    path: `${adminPrefix}/session`,
    authenticated: true,
    handler: async (request: GatewayRequest): Promise<JsonReply> => ({
      kind: 'json',
      status: 200,
      headers: { 'cache-control': 'no-store' },
      body: describeSession(request.keyId, keyOf),
    }),
  };
}
