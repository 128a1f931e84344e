/** OpenAPI description of `/v1/files` (shapes of https://platform.openai.com/docs/api-reference/files), merged into /openapi.json. */
import { z } from 'zod';
import { documentOperations } from '../admin/openapi-registry.ts';

export const fileObjectSchema = z
  .object({
    id: z.string().describe('Gateway file id (file-mg...), mapped to the provider file'),
    object: z.literal('file'),
    bytes: z.number().int(),
    created_at: z.number().int(),
    filename: z.string(),
    purpose: z.string(),
    status: z.string().optional(),
  })
  .loose();

const uploadSchema = z.object({
  file: z.string().describe('The file (binary part)'),
  purpose: z.string().describe('assistants, batch, fine-tune, vision, user_data or evals (passed to the provider)'),
  provider: z
    .string()
    .optional()
    .describe('Provider instance to store the file at (or the `provider` query parameter); optional when only one is configured'),
});

const listSchema = z.object({
  object: z.literal('list'),
  data: z.array(fileObjectSchema),
  first_id: z.string().nullable(),
  last_id: z.string().nullable(),
  has_more: z.boolean(),
});

const idParameter = [{ name: 'id', in: 'path' as const, description: 'Gateway file id' }];
const ownership = 'A file belongs to the gateway key that uploaded it: any other key gets 404.';

documentOperations(
  {
    method: 'post',
    path: '/v1/files',
    tag: 'Files',
    summary: 'Upload a file',
    description: `OpenAI multipart upload. The upload is spooled to disk (FILES_MAX_UPLOAD_BYTES, default 512 MB) and streamed to the provider. ${ownership}`,
    request: uploadSchema,
    requestType: 'multipart/form-data',
    response: fileObjectSchema,
    parameters: [{ name: 'provider', in: 'query', description: 'Provider instance (when several have a files API)' }],
    errors: [400, 401, 413, 502],
  },
  {
    method: 'get',
    path: '/v1/files',
    tag: 'Files',
    summary: "List the caller's files",
    response: listSchema,
    parameters: [
      { name: 'purpose', in: 'query' },
      { name: 'provider', in: 'query' },
      { name: 'limit', in: 'query', description: '1 to 10000 (default 10000)' },
      { name: 'order', in: 'query', description: 'asc or desc (by created_at, default desc)' },
      { name: 'after', in: 'query', description: 'Cursor: a file id from the previous page' },
    ],
    errors: [400, 401],
  },
  {
    method: 'get',
    path: '/v1/files/{id}',
    tag: 'Files',
    summary: 'Retrieve a file (status refreshed from the provider)',
    description: ownership,
    response: fileObjectSchema,
    parameters: idParameter,
  },
  {
    method: 'delete',
    path: '/v1/files/{id}',
    tag: 'Files',
    summary: 'Delete a file (at the provider and in the gateway)',
    description: ownership,
    response: z.object({ id: z.string(), object: z.literal('file'), deleted: z.boolean() }),
    parameters: idParameter,
  },
  {
    method: 'get',
    path: '/v1/files/{id}/content',
    tag: 'Files',
    summary: "Download a file's content (streamed from the provider)",
    description: ownership,
    response: z.string().describe('The file bytes'),
    responseType: 'application/octet-stream',
    parameters: idParameter,
  },
);
