/**
 * The shared schemas of /openapi.json (`components.schemas`): the OpenAI- and Anthropic-shaped model-call
 * bodies and the admin records, referenced from the paths in openapi.ts.
 */

type Schema = Record<string, unknown>;

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

export const totalsProperties: Record<string, Schema> = {
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

export const componentSchemas: Record<string, Schema> = {
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
  UsageByGroup: {
    type: 'object',
    properties: {
      group: { type: ['string', 'null'], description: 'Key id, user, team or tag; null: calls without one' },
      ...totalsProperties,
    },
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
      user: { type: ['string', 'null'], description: 'Owner user of the managed key' },
      team: { type: ['string', 'null'], description: 'Owner team of the managed key' },
      tags: { type: 'array', items: { type: 'string' }, description: 'Tags of the managed key' },
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
      user: { type: ['string', 'null'], description: 'Owner user of the managed key' },
      team: { type: ['string', 'null'], description: 'Owner team of the managed key' },
      tags: { type: 'array', items: { type: 'string' }, description: 'Tags of the managed key' },
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
      guardrails: {
        type: 'array',
        description: 'Guardrail decisions of the call (docs/guardrails.md): blocks, masks, flags, rewrites, system prompts',
        items: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            type: { type: 'string' },
            phase: { type: 'string', enum: ['input', 'output'] },
            action: { type: 'string', enum: ['block', 'mask', 'flag', 'modify', 'system_prompt'] },
            reason: { type: 'string' },
          },
        },
      },
      policy_version: {
        type: ['string', 'null'],
        description: 'Version of the guardrails and workflow applied (null when guardrails are off)',
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
};
