/**
 * The Gemini API inbound in /openapi.json (zod schemas, through src/admin/openapi-registry.ts). The request
 * and response shapes are the Gemini API's (https://ai.google.dev/api/generate-content,
 * https://ai.google.dev/api/embeddings, https://ai.google.dev/api/tokens, https://ai.google.dev/api/models);
 * only the fields the gateway reads or writes are spelled out, the rest pass as `additionalProperties`.
 */
import { z } from 'zod';
import { documentOperations } from '../admin/openapi-registry.ts';

const part = z
  .looseObject({
    text: z.string().optional(),
    thought: z.boolean().optional(),
    thoughtSignature: z.string().optional(),
    inlineData: z.object({ mimeType: z.string(), data: z.string().describe('base64') }).optional(),
    fileData: z.object({ mimeType: z.string().optional(), fileUri: z.string() }).optional(),
    functionCall: z.object({ id: z.string().optional(), name: z.string(), args: z.record(z.string(), z.unknown()).optional() }).optional(),
    functionResponse: z.object({ id: z.string().optional(), name: z.string(), response: z.record(z.string(), z.unknown()) }).optional(),
  })
  .describe('Part: one of text, inlineData, fileData, functionCall, functionResponse');
const content = z.object({ role: z.enum(['user', 'model']).optional(), parts: z.array(part) });
const functionDeclaration = z.looseObject({
  name: z.string(),
  description: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional().describe("Gemini's OpenAPI Schema subset (rewritten to JSON Schema)"),
  parametersJsonSchema: z.record(z.string(), z.unknown()).optional(),
});
const generateRequest = z.looseObject({
  contents: z.array(content),
  systemInstruction: content.optional(),
  tools: z.array(z.looseObject({ functionDeclarations: z.array(functionDeclaration).optional() })).optional(),
  toolConfig: z
    .object({
      functionCallingConfig: z.object({ mode: z.enum(['AUTO', 'ANY', 'NONE', 'VALIDATED']).optional(), allowedFunctionNames: z.array(z.string()).optional() }),
    })
    .optional(),
  generationConfig: z
    .looseObject({
      temperature: z.number().optional(),
      topP: z.number().optional(),
      maxOutputTokens: z.number().int().optional(),
      stopSequences: z.array(z.string()).optional(),
      candidateCount: z.number().int().optional(),
      presencePenalty: z.number().optional(),
      frequencyPenalty: z.number().optional(),
      seed: z.number().int().optional(),
      responseMimeType: z.string().optional(),
      responseSchema: z.record(z.string(), z.unknown()).optional(),
      responseJsonSchema: z.record(z.string(), z.unknown()).optional(),
      thinkingConfig: z.object({ thinkingBudget: z.number().int().optional(), thinkingLevel: z.string().optional(), includeThoughts: z.boolean().optional() }).optional(),
    })
    .optional(),
});
const usageMetadata = z.object({
  promptTokenCount: z.number().int(),
  candidatesTokenCount: z.number().int(),
  totalTokenCount: z.number().int(),
  thoughtsTokenCount: z.number().int().optional(),
  cachedContentTokenCount: z.number().int().optional(),
});
const generateResponse = z.object({
  candidates: z.array(
    z.object({ content: content, finishReason: z.enum(['STOP', 'MAX_TOKENS', 'SAFETY']).optional(), index: z.number().int() }),
  ),
  usageMetadata: usageMetadata.optional(),
  modelVersion: z.string(),
  responseId: z.string().optional(),
});
const embedRequest = z.looseObject({
  content: z.object({ parts: z.array(z.object({ text: z.string() })) }),
  outputDimensionality: z.number().int().optional(),
  taskType: z.string().optional().describe('not forwarded (reported in x-modelgate-dropped-params)'),
});
const embedding = z.object({ values: z.array(z.number()) });
const model = z.object({
  name: z.string().describe('models/<id>'),
  baseModelId: z.string(),
  version: z.string().describe('the provider instance serving the model'),
  displayName: z.string(),
  description: z.string(),
  supportedGenerationMethods: z.array(z.string()),
});
const googleError = z.object({ error: z.object({ code: z.number().int(), message: z.string(), status: z.string() }) });

const tag = 'Gemini API';
const modelParameter = [{ name: 'model', in: 'path' as const, description: 'Any model the gateway serves (an alias, `provider/model` or a bare id)' }];
const errors = [400, 401, 403, 404, 429, 502];
const shared = { tag, parameters: modelParameter, errorResponse: googleError, errors };
const keyNote = 'Key in `x-goog-api-key` (or `Authorization: Bearer`, `x-api-key`), or the `key` query parameter, which is removed before anything is logged.';

for (const version of ['v1beta', 'v1']) {
  const prefix = `/${version}/models/{model}`;
  documentOperations(
    {
      ...shared,
      method: 'post',
      path: `${prefix}:generateContent`,
      summary: 'Generate content with any model (translated to the canonical chat call)',
      description: keyNote,
      request: generateRequest,
      response: generateResponse,
    },
    {
      ...shared,
      method: 'post',
      path: `${prefix}:streamGenerateContent`,
      summary: 'Stream content: SSE with `alt=sse` (one GenerateContentResponse per event), otherwise one JSON array',
      description: `${keyNote} Each element is a GenerateContentResponse; the last carries finishReason and usageMetadata.`,
      parameters: [...modelParameter, { name: 'alt', in: 'query', description: '`sse` for server-sent events' }],
      request: generateRequest,
      response: z.array(generateResponse),
    },
    {
      ...shared,
      method: 'post',
      path: `${prefix}:countTokens`,
      summary: 'Count tokens (an estimate, about four characters per token; header x-modelgate-estimate: true)',
      request: z.looseObject({ contents: z.array(content).optional(), generateContentRequest: generateRequest.optional() }),
      response: z.object({ totalTokens: z.number().int() }),
    },
    { ...shared, method: 'post', path: `${prefix}:embedContent`, summary: 'Embed one content', request: embedRequest, response: z.object({ embedding }) },
    {
      ...shared,
      method: 'post',
      path: `${prefix}:batchEmbedContents`,
      summary: 'Embed several contents in one call',
      request: z.object({ requests: z.array(embedRequest.extend({ model: z.string().optional() })) }),
      response: z.object({ embeddings: z.array(embedding) }),
    },
  );
}
documentOperations(
  {
    tag,
    method: 'get',
    path: '/v1beta/models',
    summary: 'List models in the Gemini API shape (also GET /v1/models when the request carries x-goog-api-key)',
    parameters: [
      { name: 'pageSize', in: 'query', description: 'default 50, at most 1000' },
      { name: 'pageToken', in: 'query' },
    ],
    response: z.object({ models: z.array(model), nextPageToken: z.string().optional() }),
    errorResponse: googleError,
    errors: [400, 401],
  },
  { ...shared, method: 'get', path: '/v1beta/models/{model}', summary: 'Get a model in the Gemini API shape', response: model, errors: [401, 404] },
);
