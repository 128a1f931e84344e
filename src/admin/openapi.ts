/**
 * OpenAPI 3.1 document of the whole HTTP API, served at /openapi.json (Swagger UI at /swagger: swagger-routes.ts).
 * Wire formats follow the providers' references: https://platform.openai.com/docs/api-reference
 * (chat, embeddings, models, responses) and https://docs.anthropic.com/en/api/messages (messages).
 */
import type { Route } from '../http/types.ts';
import { passthroughOpenApiPaths } from '../passthrough/passthrough-openapi.ts';
import { adminPrefix } from './admin-routes.ts';
import { componentSchemas, ref, totalsProperties } from './openapi-component-schemas.ts';
import { registeredPaths } from './openapi-registry.ts';
import { createSwaggerRoutes } from './swagger-routes.ts';

type Schema = Record<string, unknown>;

const jsonContent = (schema: Schema) => ({ 'application/json': { schema } });
const errorResponses = {
  '400': { description: 'Invalid request', content: jsonContent(ref('Error')) },
  '401': { description: 'Missing or invalid API key', content: jsonContent(ref('Error')) },
  '404': { description: 'Unknown model or resource', content: jsonContent(ref('Error')) },
  '429': { description: 'Rate limited (upstream or gateway)', content: jsonContent(ref('Error')) },
  '502': { description: 'Upstream error', content: jsonContent(ref('Error')) },
};

function modelCall(summary: string, description: string, requestSchema: string, responseSchema: string, streams: boolean): Schema {
  const content: Record<string, unknown> = { 'application/json': { schema: ref(responseSchema) } };
  if (streams) content['text/event-stream'] = { schema: { type: 'string', description: 'Server-sent events, when `stream` is true' } };
  return {
    post: {
      tags: ['Model calls'],
      summary,
      description,
      requestBody: { required: true, content: jsonContent(ref(requestSchema)) },
      responses: { '200': { description: 'Success', content }, ...errorResponses },
    },
  };
}

const dateParameters = [
  {
    name: 'days',
    in: 'query',
    schema: { type: 'integer', minimum: 1, default: 30 },
    description: 'Days ending at end_date (used when start_date is absent)',
  },
  { name: 'start_date', in: 'query', schema: { type: 'string', format: 'date' }, description: 'First day, YYYY-MM-DD (UTC), inclusive' },
  {
    name: 'end_date',
    in: 'query',
    schema: { type: 'string', format: 'date' },
    description: 'Last day, YYYY-MM-DD (UTC), inclusive; default today',
  },
];
const filterParameters = [
  ...dateParameters,
  { name: 'model', in: 'query', schema: { type: 'string' }, description: 'Model as sent upstream or as requested' },
  { name: 'provider', in: 'query', schema: { type: 'string' }, description: 'Provider instance name' },
  {
    name: 'endpoint',
    in: 'query',
    schema: { type: 'string', enum: ['chat.completions', 'embeddings', 'responses', 'messages', 'gemini', 'passthrough', 'guardrail'] },
  },
  { name: 'status', in: 'query', schema: { type: 'integer' } },
  { name: 'key_id', in: 'query', schema: { type: 'string' } },
  { name: 'user', in: 'query', schema: { type: 'string' }, description: "Managed key's owner user" },
  { name: 'team', in: 'query', schema: { type: 'string' }, description: "Managed key's owner team" },
  { name: 'tag', in: 'query', schema: { type: 'string' }, description: "One of the managed key's tags" },
  { name: 'request_id', in: 'query', schema: { type: 'string' } },
];
const pageParameters = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
  { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
];

function adminGet(summary: string, parameters: unknown[], schema: Schema): Schema {
  return {
    get: {
      tags: ['Admin'],
      summary,
      parameters,
      responses: {
        '200': { description: 'Success', content: jsonContent(schema) },
        '400': errorResponses['400'],
        '401': errorResponses['401'],
      },
    },
  };
}

const periodList = (itemName: string): Schema => ({
  type: 'object',
  properties: {
    start_date: { type: 'string', format: 'date' },
    end_date: { type: 'string', format: 'date' },
    interval: { type: 'string' },
    data: { type: 'array', items: ref(itemName) },
  },
});

const paged = (itemName: string): Schema => ({
  type: 'object',
  properties: {
    start_date: { type: 'string', format: 'date' },
    end_date: { type: 'string', format: 'date' },
    total: { type: 'integer' },
    limit: { type: 'integer' },
    offset: { type: 'integer' },
    data: { type: 'array', items: ref(itemName) },
  },
});

export function createOpenApiDocument(): Schema {
  const document = createCoreDocument();
  // Routes that declare zod schemas beside their handlers (src/admin/openapi-registry.ts).
  Object.assign(document.paths as Schema, registeredPaths());
  return document;
}

function createCoreDocument(): Schema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Modelgate',
      version: '0.1.0',
      description:
        'OpenAI-compatible AI gateway. Model calls use the OpenAI wire format (Anthropic Messages format on /v1/messages). ' +
        'When MODELGATE_MASTER_KEY is set, every endpoint except /health, /openapi.json and /swagger requires it as ' +
        '`Authorization: Bearer <key>`, `x-api-key` or `x-goog-api-key`.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }, { apiKey: [] }],
    tags: [
      { name: 'Model calls', description: 'OpenAI-compatible endpoints routed to the configured providers' },
      { name: 'Models' },
      { name: 'Admin', description: `Usage, cost and audit records (${adminPrefix})` },
      { name: 'Service' },
      { name: 'Passthrough', description: 'Provider-native APIs under /p/{provider}/...' },
    ],
    paths: {
      ...passthroughOpenApiPaths,
      '/v1/chat/completions': modelCall(
        'Create a chat completion',
        'https://platform.openai.com/docs/api-reference/chat/create. Unknown fields pass through to the provider. ' +
          'With `stream: true` the response is SSE `data:` chunks ending with `data: [DONE]`.',
        'ChatCompletionRequest',
        'ChatCompletion',
        true,
      ),
      '/v1/embeddings': modelCall(
        'Create embeddings',
        'https://platform.openai.com/docs/api-reference/embeddings/create',
        'EmbeddingsRequest',
        'EmbeddingsResponse',
        false,
      ),
      '/v1/responses': modelCall(
        'Create a model response (Responses API)',
        'https://platform.openai.com/docs/api-reference/responses/create',
        'ResponsesRequest',
        'Response',
        true,
      ),
      '/v1/responses/{response_id}': {
        get: {
          tags: ['Model calls'],
          summary: 'Retrieve a stored response',
          parameters: [{ name: 'response_id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'The response', content: jsonContent(ref('Response')) }, '404': errorResponses['404'] },
        },
        delete: {
          tags: ['Model calls'],
          summary: 'Delete a stored response',
          parameters: [{ name: 'response_id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: 'Deleted', content: jsonContent({ type: 'object' }) }, '404': errorResponses['404'] },
        },
      },
      '/v1/responses/{response_id}/input_items': {
        get: {
          tags: ['Model calls'],
          summary: 'List the input items of a stored response',
          parameters: [
            { name: 'response_id', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'limit', in: 'query', schema: { type: 'integer' } },
            { name: 'order', in: 'query', schema: { type: 'string', enum: ['asc', 'desc'] } },
            { name: 'after', in: 'query', schema: { type: 'string' } },
          ],
          responses: {
            '200': {
              description: 'Input items',
              content: jsonContent({ type: 'object', properties: { object: { const: 'list' }, data: { type: 'array' } } }),
            },
            '404': errorResponses['404'],
          },
        },
      },
      '/v1/messages/count_tokens': {
        post: {
          tags: ['Model calls'],
          summary: 'Count the input tokens of a Messages request (estimate)',
          requestBody: { required: true, content: jsonContent(ref('MessagesRequest')) },
          responses: {
            '200': {
              description: 'Token count',
              content: jsonContent({ type: 'object', properties: { input_tokens: { type: 'integer' } } }),
            },
            '400': errorResponses['400'],
          },
        },
      },
      '/metrics': {
        get: {
          tags: ['Service'],
          summary: 'Prometheus metrics (text exposition format)',
          responses: {
            '200': { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
            '401': errorResponses['401'],
          },
        },
      },
      '/v1/messages': modelCall(
        'Create a message (Anthropic Messages API)',
        'https://docs.anthropic.com/en/api/messages. Errors use the Anthropic error shape on this endpoint.',
        'MessagesRequest',
        'Message',
        true,
      ),
      '/v1/models': {
        get: {
          tags: ['Models'],
          summary: 'List models of every configured provider',
          responses: { '200': { description: 'Models', content: jsonContent(ref('ModelList')) }, '401': errorResponses['401'] },
        },
      },
      '/v1/models/{model}': {
        get: {
          tags: ['Models'],
          summary: 'Retrieve a model',
          parameters: [
            { name: 'model', in: 'path', required: true, schema: { type: 'string' }, description: 'Model id, or provider/model' },
          ],
          responses: { '200': { description: 'Model', content: jsonContent(ref('Model')) }, '404': errorResponses['404'] },
        },
      },
      '/health': {
        get: {
          tags: ['Service'],
          summary: 'Liveness',
          security: [],
          responses: {
            '200': {
              description: 'Up',
              content: jsonContent({
                type: 'object',
                properties: { status: { type: 'string' }, providers: { type: 'integer' }, models: { type: 'integer' } },
              }),
            },
          },
        },
      },
      [`${adminPrefix}/usage/summary`]: adminGet('Usage totals over a date range', filterParameters, {
        type: 'object',
        properties: { start_date: { type: 'string' }, end_date: { type: 'string' }, ...totalsProperties },
      }),
      [`${adminPrefix}/usage/daily`]: adminGet(
        'Usage per day (or per `interval`: day, week, month)',
        [
          ...filterParameters,
          { name: 'interval', in: 'query', schema: { type: 'string', enum: ['day', 'week', 'month'], default: 'day' } },
        ],
        periodList('UsagePeriod'),
      ),
      [`${adminPrefix}/usage/weekly`]: adminGet('Usage per ISO week (period = the Monday)', filterParameters, periodList('UsagePeriod')),
      [`${adminPrefix}/usage/monthly`]: adminGet(
        'Usage per calendar month (period = YYYY-MM)',
        filterParameters,
        periodList('UsagePeriod'),
      ),
      [`${adminPrefix}/usage/models`]: adminGet('Usage by model', filterParameters, periodList('UsageByModel')),
      [`${adminPrefix}/usage/providers`]: adminGet('Usage by provider', filterParameters, periodList('UsageByProvider')),
      [`${adminPrefix}/usage/groups`]: adminGet(
        'Usage by managed key, owner user, team or tag (a call with several tags counts in each)',
        [
          ...filterParameters,
          { name: 'by', in: 'query', required: true, schema: { type: 'string', enum: ['key', 'user', 'team', 'tag'] } },
        ],
        periodList('UsageByGroup'),
      ),
      [`${adminPrefix}/usage/log`]: adminGet('Usage records, newest first', [...filterParameters, ...pageParameters], paged('UsageRecord')),
      [`${adminPrefix}/audit/log`]: adminGet(
        'Audit log entries, newest first',
        [
          ...filterParameters,
          ...pageParameters,
          { name: 'method', in: 'query', schema: { type: 'string' } },
          { name: 'path', in: 'query', schema: { type: 'string' } },
          { name: 'errors_only', in: 'query', schema: { type: 'boolean' } },
          {
            name: 'q',
            in: 'query',
            schema: { type: 'string', maxLength: 200 },
            description:
              'Case-insensitive substring of the model, path, request id, error and, when stored, the request and response bodies',
          },
          { name: 'start', in: 'query', schema: { type: 'string' }, description: 'ISO 8601 or epoch ms, inclusive (narrows the days)' },
          { name: 'end', in: 'query', schema: { type: 'string' }, description: 'ISO 8601 or epoch ms, exclusive' },
          { name: 'stream', in: 'query', schema: { type: 'boolean' } },
        ],
        paged('AuditEntry'),
      ),
      [`${adminPrefix}/audit/log/{id}`]: adminGet(
        'One audit entry',
        [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        ref('AuditEntry'),
      ),
      [`${adminPrefix}/audit/log/{id}/thread`]: adminGet(
        'The conversation an audit entry belongs to (entries sharing its opening messages), oldest first',
        [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        ref('AuditThread'),
      ),
      [`${adminPrefix}/audit/conversation`]: adminGet(
        'Same as /audit/log/{id}/thread, with the id as `log_id`',
        [{ name: 'log_id', in: 'query', required: true, schema: { type: 'string' } }],
        ref('AuditThread'),
      ),
      [`${adminPrefix}/models`]: adminGet('Models with their provider and provider type', [], {
        type: 'object',
        properties: {
          object: { type: 'string' },
          data: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                id: { type: 'string' },
                qualified_id: { type: 'string' },
                provider: { type: 'string' },
                provider_type: { type: ['string', 'null'] },
              },
            },
          },
        },
      }),
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'MODELGATE_MASTER_KEY' },
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      },
      schemas: componentSchemas,
    },
  };
}

export function createOpenApiRoutes(): Route[] {
  // Built on the first request, not at start: converting every route's zod schema takes a few hundred
  // milliseconds of start-up otherwise (measured with --cpu-prof on the bundle).
  let document: string | undefined;
  return [
    {
      method: 'GET',
      path: '/openapi.json',
      authenticated: false,
      handler: async () => {
        document ??= JSON.stringify(createOpenApiDocument());
        return { kind: 'text', status: 200, contentType: 'application/json; charset=utf-8', body: document };
      },
    },
    ...createSwaggerRoutes(),
  ];
}
