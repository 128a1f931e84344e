/**
 * OpenAPI 3.1 document of the whole HTTP API, served at /openapi.json, and Swagger UI at /swagger,
 * served from the `swagger-ui-dist` package on disk (no CDN).
 * Wire formats follow the providers' references: https://platform.openai.com/docs/api-reference
 * (chat, embeddings, models, responses) and https://docs.anthropic.com/en/api/messages (messages).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { GatewayError } from '../core/errors.ts';
import type { Route } from '../http/types.ts';
import { passthroughOpenApiPaths } from '../passthrough/passthrough-openapi.ts';
import { adminPrefix } from './admin-routes.ts';
import { registeredPaths } from './openapi-registry.ts';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
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
  { name: 'endpoint', in: 'query', schema: { type: 'string', enum: ['chat.completions', 'embeddings', 'responses', 'messages', 'passthrough'] } },
  { name: 'status', in: 'query', schema: { type: 'integer' } },
  { name: 'key_id', in: 'query', schema: { type: 'string' } },
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

const totalsProperties: Record<string, Schema> = {
  requests: { type: 'integer' },
  input_tokens: { type: 'integer' },
  output_tokens: { type: 'integer' },
  total_tokens: { type: 'integer' },
  cached_tokens: { type: 'integer' },
  reasoning_tokens: { type: 'integer' },
  cache_write_tokens: { type: 'integer' },
  cost_usd: { type: 'number', description: 'Sum over priced records' },
  unpriced_requests: { type: 'integer', description: 'Records of models without a price (cost unknown, not zero)' },
  error_requests: { type: 'integer' },
  average_latency_ms: { type: 'number' },
};

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
      { name: 'Passthrough', description: "Provider-native APIs under /p/{provider}/..." },
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
      [`${adminPrefix}/usage/log`]: adminGet('Usage records, newest first', [...filterParameters, ...pageParameters], paged('UsageRecord')),
      [`${adminPrefix}/audit/log`]: adminGet(
        'Audit log entries, newest first',
        [
          ...filterParameters,
          ...pageParameters,
          { name: 'method', in: 'query', schema: { type: 'string' } },
          { name: 'path', in: 'query', schema: { type: 'string' } },
          { name: 'errors_only', in: 'query', schema: { type: 'boolean' } },
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
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              properties: {
                message: { type: 'string' },
                type: { type: 'string' },
                code: { type: ['string', 'null'] },
                param: { type: ['string', 'null'] },
              },
            },
          },
        },
        ChatCompletionRequest: {
          type: 'object',
          required: ['model', 'messages'],
          additionalProperties: true,
          properties: {
            model: { type: 'string', description: 'Model id, or provider/model' },
            messages: {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                required: ['role'],
                additionalProperties: true,
                properties: { role: { type: 'string' }, content: {} },
              },
            },
            stream: { type: 'boolean' },
            stream_options: { type: 'object', properties: { include_usage: { type: 'boolean' } } },
            temperature: { type: 'number' },
            max_tokens: { type: 'integer' },
            max_completion_tokens: { type: 'integer' },
            tools: { type: 'array', items: { type: 'object' } },
            tool_choice: {},
            response_format: { type: 'object' },
          },
        },
        ChatCompletion: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            object: { const: 'chat.completion' },
            created: { type: 'integer' },
            model: { type: 'string' },
            choices: { type: 'array', items: { type: 'object' } },
            usage: ref('Usage'),
          },
        },
        Usage: {
          type: 'object',
          properties: {
            prompt_tokens: { type: 'integer' },
            completion_tokens: { type: 'integer' },
            total_tokens: { type: 'integer' },
            prompt_tokens_details: { type: 'object' },
            completion_tokens_details: { type: 'object' },
          },
        },
        EmbeddingsRequest: {
          type: 'object',
          required: ['model', 'input'],
          additionalProperties: true,
          properties: {
            model: { type: 'string' },
            input: { oneOf: [{ type: 'string' }, { type: 'array' }] },
            encoding_format: { type: 'string', enum: ['float', 'base64'] },
            dimensions: { type: 'integer' },
          },
        },
        EmbeddingsResponse: {
          type: 'object',
          properties: {
            object: { const: 'list' },
            data: { type: 'array', items: { type: 'object' } },
            model: { type: 'string' },
            usage: { type: 'object' },
          },
        },
        ResponsesRequest: {
          type: 'object',
          required: ['model'],
          additionalProperties: true,
          properties: {
            model: { type: 'string' },
            input: { oneOf: [{ type: 'string' }, { type: 'array' }] },
            instructions: { type: 'string' },
            previous_response_id: { type: 'string' },
            store: { type: 'boolean' },
            stream: { type: 'boolean' },
          },
        },
        Response: {
          type: 'object',
          additionalProperties: true,
          properties: {
            id: { type: 'string' },
            object: { const: 'response' },
            status: { type: 'string' },
            output: { type: 'array' },
            usage: { type: 'object' },
          },
        },
        MessagesRequest: {
          type: 'object',
          required: ['model', 'messages', 'max_tokens'],
          additionalProperties: true,
          properties: {
            model: { type: 'string' },
            messages: { type: 'array', items: { type: 'object' } },
            max_tokens: { type: 'integer' },
            system: {},
            stream: { type: 'boolean' },
          },
        },
        Message: {
          type: 'object',
          additionalProperties: true,
          properties: {
            id: { type: 'string' },
            type: { const: 'message' },
            role: { type: 'string' },
            content: { type: 'array' },
            usage: { type: 'object' },
          },
        },
        Model: {
          type: 'object',
          properties: { id: { type: 'string' }, object: { const: 'model' }, created: { type: 'integer' }, owned_by: { type: 'string' } },
        },
        ModelList: { type: 'object', properties: { object: { const: 'list' }, data: { type: 'array', items: ref('Model') } } },
        UsagePeriod: { type: 'object', properties: { period: { type: 'string' }, ...totalsProperties } },
        UsageByModel: {
          type: 'object',
          properties: {
            model: { type: ['string', 'null'] },
            provider: { type: ['string', 'null'] },
            provider_type: { type: ['string', 'null'] },
            ...totalsProperties,
          },
        },
        UsageByProvider: {
          type: 'object',
          properties: { provider: { type: ['string', 'null'] }, provider_type: { type: ['string', 'null'] }, ...totalsProperties },
        },
        UsageRecord: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            request_id: { type: 'string' },
            created_at: { type: 'string', format: 'date-time' },
            endpoint: { type: 'string' },
            provider: { type: ['string', 'null'] },
            provider_type: { type: ['string', 'null'] },
            model: { type: ['string', 'null'] },
            requested_model: { type: ['string', 'null'] },
            stream: { type: 'boolean' },
            status: { type: 'integer' },
            error_code: { type: ['string', 'null'] },
            input_tokens: { type: 'integer' },
            output_tokens: { type: 'integer' },
            total_tokens: { type: 'integer' },
            cached_tokens: { type: 'integer' },
            reasoning_tokens: { type: 'integer' },
            cache_write_tokens: { type: 'integer' },
            cost_usd: { type: ['number', 'null'], description: 'null when the model has no price' },
            priced: { type: 'boolean' },
            key_id: { type: ['string', 'null'] },
            latency_ms: { type: 'number' },
            first_byte_ms: { type: ['number', 'null'] },
            cache_status: { type: 'string' },
          },
        },
        AuditEntry: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            request_id: { type: 'string' },
            created_at: { type: 'string', format: 'date-time' },
            method: { type: 'string' },
            path: { type: 'string' },
            endpoint: { type: 'string' },
            provider: { type: ['string', 'null'] },
            provider_type: { type: ['string', 'null'] },
            model: { type: ['string', 'null'] },
            requested_model: { type: ['string', 'null'] },
            stream: { type: 'boolean' },
            status: { type: 'integer' },
            error: { type: ['object', 'null'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
            latency_ms: { type: 'number' },
            first_byte_ms: { type: ['number', 'null'] },
            key_id: { type: ['string', 'null'] },
            dropped_params: { type: 'array', items: { type: 'string' } },
            request_headers: { type: ['object', 'null'], description: 'Redacted; present with LOGGING_LOG_HEADERS' },
            response_headers: { type: ['object', 'null'] },
            request_body: { description: 'Present with LOGGING_LOG_BODIES; text when cut at LOGGING_MAX_BODY_BYTES' },
            response_body: { description: 'Streamed responses are reassembled into one object' },
            body_truncated: { type: 'boolean' },
            thread_key: { type: ['string', 'null'] },
            response_id: { type: ['string', 'null'], description: 'Responses API: id of the response (bodies logged)' },
            previous_response_id: { type: ['string', 'null'], description: 'Responses API: the response this call continued' },
            attempts: {
              type: 'array',
              description: 'Every upstream attempt of the call in order (retries, fallbacks, open circuits)',
              items: {
                type: 'object',
                properties: {
                  provider: { type: 'string' },
                  model: { type: 'string' },
                  operation: { type: 'string', enum: ['chat', 'embeddings', 'responses'] },
                  status: { type: 'integer' },
                  error: { type: ['string', 'null'] },
                  latency_ms: { type: 'number' },
                },
              },
            },
          },
        },
        AuditThread: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            thread_key: { type: ['string', 'null'] },
            entries: { type: 'array', items: ref('AuditEntry') },
          },
        },
      },
    },
  };
}

const swaggerFiles: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'index.css': 'text/css; charset=utf-8',
};

const swaggerPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Modelgate API</title>
<link rel="stylesheet" href="/swagger/swagger-ui.css">
<link rel="stylesheet" href="/swagger/index.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/swagger/swagger-ui-bundle.js"></script>
<script src="/swagger/swagger-ui-standalone-preset.js"></script>
<script src="/swagger/initializer.js"></script>
</body>
</html>
`;

const swaggerInitializer = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout'
  });
};
`;

export function createOpenApiRoutes(): Route[] {
  const document = JSON.stringify(createOpenApiDocument());
  const directory = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const cache = new Map<string, string>();
  return [
    {
      method: 'GET',
      path: '/openapi.json',
      authenticated: false,
      handler: async () => ({ kind: 'text', status: 200, contentType: 'application/json; charset=utf-8', body: document }),
    },
    {
      method: 'GET',
      path: '/swagger',
      authenticated: false,
      handler: async () => ({ kind: 'text', status: 200, contentType: 'text/html; charset=utf-8', body: swaggerPage }),
    },
    {
      method: 'GET',
      path: '/swagger/:file',
      authenticated: false,
      handler: async (request) => {
        const file = request.params.file ?? '';
        if (file === 'initializer.js') {
          return { kind: 'text', status: 200, contentType: 'application/javascript; charset=utf-8', body: swaggerInitializer };
        }
        const contentType = swaggerFiles[file];
        if (!contentType)
          throw new GatewayError(`Unknown endpoint GET /swagger/${file}`, { status: 404, code: 'unknown_endpoint', retryable: false });
        let body = cache.get(file);
        if (body === undefined) {
          body = readFileSync(join(directory, file), 'utf8');
          cache.set(file, body);
        }
        return { kind: 'text', status: 200, contentType, headers: { 'cache-control': 'public, max-age=86400' }, body };
      },
    },
  ];
}
