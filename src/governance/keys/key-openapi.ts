/** OpenAPI operations of the managed-key admin API, from its zod schemas (key-schemas.ts). */
import { adminPrefix } from '../../admin/admin-routes.ts';
import { documentOperations } from '../../admin/openapi-registry.ts';
import { createKeyRequest, keyDeleted, keyList, keyObject, keyWithSecret, updateKeyRequest } from './key-schemas.ts';

const tag = 'Admin: keys';
const base = `${adminPrefix}/keys`;
const id = [{ name: 'id', in: 'path' as const }];
const errors = [400, 401, 403, 404];

documentOperations(
  {
    method: 'get',
    path: base,
    tag,
    summary: 'List managed keys (secrets are never listed)',
    parameters: [{ name: 'include_revoked', in: 'query', description: 'true: also list deleted keys' }],
    response: keyList,
    errors: [401, 403],
  },
  {
    method: 'post',
    path: base,
    tag,
    summary: 'Create a managed key; the response holds the secret, shown only this once',
    request: createKeyRequest,
    response: keyWithSecret,
    status: 201,
    errors,
  },
  { method: 'get', path: `${base}/{id}`, tag, summary: 'Read a managed key', parameters: id, response: keyObject, errors },
  {
    method: 'post',
    path: `${base}/{id}`,
    tag,
    summary: 'Update a managed key (only the fields sent change; active: true reactivates)',
    parameters: id,
    request: updateKeyRequest,
    response: keyObject,
    errors,
  },
  {
    method: 'delete',
    path: `${base}/{id}`,
    tag,
    summary: 'Delete (revoke) a managed key; every replica refuses it within a second',
    parameters: id,
    response: keyDeleted,
    errors,
  },
  {
    method: 'post',
    path: `${base}/{id}/rotate`,
    tag,
    summary: 'Rotate: a new secret (shown once); the old one stops working at once',
    parameters: id,
    response: keyWithSecret,
    errors,
  },
  {
    method: 'post',
    path: `${base}/{id}/deactivate`,
    tag,
    summary: 'Deactivate a key until it is updated with active: true',
    parameters: id,
    response: keyObject,
    errors,
  },
);
