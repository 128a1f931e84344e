/** OpenAPI description of `/v1/batches` (shapes of https://platform.openai.com/docs/api-reference/batch), merged into /openapi.json. */
import { z } from 'zod';
import { documentOperations } from '../admin/openapi-registry.ts';

const batchObjectSchema = z
  .object({
    id: z.string().describe('Gateway batch id (batch_mg...)'),
    object: z.literal('batch'),
    endpoint: z.string(),
    input_file_id: z.string().nullable().describe('Gateway file id of the input (null for inline requests)'),
    completion_window: z.string(),
    status: z.string().describe('validating, failed, in_progress, finalizing, completed, expired, cancelling or cancelled'),
    output_file_id: z
      .string()
      .nullable()
      .describe(
        'Gateway file id of the output JSONL, readable with /v1/files/{id}/content (null for translated batches: use /v1/batches/{id}/results)',
      ),
    error_file_id: z.string().nullable(),
    created_at: z.number().int(),
    request_counts: z.object({ total: z.number().int(), completed: z.number().int(), failed: z.number().int() }).optional(),
    metadata: z.record(z.string(), z.string()).nullable().optional(),
  })
  .loose();

const requestLineSchema = z.object({
  custom_id: z.string(),
  method: z.literal('POST').optional(),
  url: z.string().optional().describe('Default: the batch endpoint'),
  body: z.object({ model: z.string() }).loose(),
});

const createSchema = z.object({
  input_file_id: z.string().optional().describe('A gateway file uploaded with purpose "batch"; give this or `requests`'),
  requests: z.array(requestLineSchema).optional().describe('Gateway extension: the request lines inline (uploaded for you)'),
  endpoint: z.string().describe('/v1/chat/completions, /v1/embeddings, /v1/responses or /v1/completions'),
  completion_window: z.literal('24h').optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  provider: z
    .string()
    .optional()
    .describe(
      "Gateway extension: the provider instance (default: the first line's provider prefix, else the provider serving its model, else the input file's provider, else the only one)",
    ),
});

const idParameter = [{ name: 'id', in: 'path' as const, description: 'Gateway batch id' }];
const ownership = 'A batch belongs to the gateway key that created it: any other key gets 404.';

documentOperations(
  {
    method: 'post',
    path: '/v1/batches',
    tag: 'Batches',
    summary: 'Create a batch (native at OpenAI, Azure OpenAI, Groq; translated for Anthropic Message Batches and the Gemini Batch API)',
    description: `Each line's model passes the gateway's aliases and model access first. ${ownership}`,
    request: createSchema,
    response: batchObjectSchema,
    errors: [400, 401, 403, 404, 502],
  },
  {
    method: 'get',
    path: '/v1/batches',
    tag: 'Batches',
    summary: "List the caller's batches, newest first (as last checked)",
    response: z.object({
      object: z.literal('list'),
      data: z.array(batchObjectSchema),
      first_id: z.string().nullable(),
      last_id: z.string().nullable(),
      has_more: z.boolean(),
    }),
    parameters: [
      { name: 'limit', in: 'query', description: '1 to 100 (default 20)' },
      { name: 'after', in: 'query', description: 'Cursor: a batch id from the previous page' },
    ],
    errors: [400, 401],
  },
  {
    method: 'get',
    path: '/v1/batches/{id}',
    tag: 'Batches',
    summary: 'Retrieve a batch (refreshed from the provider)',
    description: ownership,
    response: batchObjectSchema,
    parameters: idParameter,
  },
  {
    method: 'post',
    path: '/v1/batches/{id}/cancel',
    tag: 'Batches',
    summary: 'Cancel a batch',
    description: ownership,
    response: batchObjectSchema,
    parameters: idParameter,
  },
  {
    method: 'get',
    path: '/v1/batches/{id}/results',
    tag: 'Batches',
    summary: 'The results as OpenAI batch output JSONL (output lines, then error lines)',
    description: `Usage of every item is recorded once, before the results are sent, at the provider's batch price. 409 batch_not_finished while the batch runs. ${ownership}`,
    response: z.string().describe('JSONL: {"id","custom_id","response":{"status_code","request_id","body"},"error"} per line'),
    responseType: 'application/jsonl',
    parameters: idParameter,
    errors: [401, 404, 409, 502],
  },
);
