/**
 * A provider simulator speaking the Gemini API (Google AI, `generativelanguage.googleapis.com/v1beta`) wire format.
 *
 * Formats follow the Gemini API reference:
 * - generateContent / streamGenerateContent: https://ai.google.dev/api/generate-content
 *   (GenerateContentRequest: contents[].role/parts, systemInstruction, tools[].functionDeclarations, toolConfig,
 *   generationConfig; GenerateContentResponse: candidates[].content.parts, finishReason, index, safetyRatings,
 *   promptFeedback.blockReason, usageMetadata {promptTokenCount, candidatesTokenCount, thoughtsTokenCount,
 *   cachedContentTokenCount, totalTokenCount}, modelVersion, responseId).
 * - Streaming with `?alt=sse`: every event is one GenerateContentResponse framed `data: {json}\r\n\r\n`, as in the
 *   curl output of Google's REST streaming quickstart (google-gemini/cookbook quickstarts/rest/Streaming_REST.ipynb)
 *   and the `responseLineRE` of Google's own @google/genai SDK, which accepts `\n\n`, `\r\r` and `\r\n\r\n`.
 *   There is no `[DONE]` sentinel; the stream just ends. Without `alt=sse` the endpoint returns a JSON array.
 * - Thought signatures: https://ai.google.dev/gemini-api/docs/thought-signatures (parts carry `thoughtSignature`;
 *   Gemini 3 returns one on the first functionCall part of a step and rejects a history whose functionCall parts
 *   lack it with a 400 "Function call is missing a thought_signature in functionCall parts").
 * - Thinking: https://ai.google.dev/gemini-api/docs/thinking (thinkingConfig.includeThoughts returns parts with
 *   `thought: true`; usageMetadata.thoughtsTokenCount counts thinking tokens).
 * - Embeddings: https://ai.google.dev/api/embeddings (embedContent -> {embedding:{values}}, batchEmbedContents with
 *   requests[].model that must match the URL model -> {embeddings:[{values}]}; outputDimensionality).
 * - Models: https://ai.google.dev/api/models (models[].name "models/...", supportedGenerationMethods, pageSize /
 *   pageToken / nextPageToken).
 * - Errors: https://ai.google.dev/gemini-api/docs/troubleshooting and Google's API error model
 *   ({"error":{"code","message","status","details"}}; 429 RESOURCE_EXHAUSTED carries a
 *   type.googleapis.com/google.rpc.RetryInfo detail with `retryDelay`; a bad key is 400 INVALID_ARGUMENT with
 *   an ErrorInfo reason API_KEY_INVALID).
 * - Auth: the `x-goog-api-key` header (https://ai.google.dev/api#authentication); the `key` query parameter is
 *   accepted too, as the real API does, and recorded so tests can prove the gateway never uses it.
 *
 * Behaviour is chosen by the model name: `gemini-sim-rate-limited` (429), `gemini-sim-server-error` (500),
 * `gemini-sim-overloaded` (503), a model that is neither listed nor `gemini-sim-*` (404 NOT_FOUND), `gemini-sim-safety` (candidate finishReason SAFETY, no content),
 * `gemini-sim-prompt-blocked` (promptFeedback.blockReason, no candidates), `gemini-sim-thinking` (reports
 * thoughtsTokenCount and, with includeThoughts, a thought part), `gemini-sim-stream-error` (an error event
 * mid-stream), `gemini-sim-hang-stream` (one event, then nothing until the client goes away). Any other model answers by echoing the last user text; when function declarations are offered and
 * the last turn is not a function response, it calls the first function with {"location":"Paris"} (the function
 * and arguments a `[[sim-tool NAME {...}]]` directive in the last user text names, see scripted-tool-call.ts),
 * with a thoughtSignature.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createGeminiBatchesSimulator, type GeminiBatchesSimulator } from './gemini-batches-simulator.ts';
import { scriptedToolCall } from './scripted-tool-call.ts';
import { createSimulatorServer, listenSimulator, readRequestJson } from './simulator-server.ts';

export interface GeminiRecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown> | undefined;
  /** `generateContent`, `streamGenerateContent`, `embedContent`, `batchEmbedContents` or `models`. */
  action: string;
  /** Model from the URL, without the `models/` prefix. */
  model: string | undefined;
  aborted: boolean;
}

export interface GeminiSimulatorOptions {
  /** Expected key; requests without it get Gemini's 400 API_KEY_INVALID (403 when missing entirely). */
  apiKey?: string;
  models?: string[];
  /** Milliseconds between streamed events. */
  chunkDelayMs?: number;
  /** Largest page the models listing returns whatever pageSize asks (the real API caps it at 1000). */
  maxPageSize?: number;
}

export interface GeminiSimulator {
  url: string;
  /** Base URL to configure in the gateway (`url + /v1beta`). */
  baseUrl: string;
  requests: GeminiRecordedRequest[];
  /** Thought signatures the simulator has issued, in order. */
  issuedSignatures: string[];
  /** Resolves when a request has been aborted by its client before the response finished. */
  waitForAbort(): Promise<void>;
  close(): Promise<void>;
  /** The Batch API (test/simulators/gemini-batches-simulator.ts). */
  batches: GeminiBatchesSimulator;
}

type Json = Record<string, unknown>;

const defaultModels = ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-3-pro-preview', 'gemini-embedding-001'];

function countWords(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

function partsOf(content: unknown): Json[] {
  const parts = (content as Json | undefined)?.parts;
  return Array.isArray(parts) ? (parts as Json[]) : [];
}

function textOfParts(parts: Json[]): string {
  return parts
    .filter((part) => typeof part.text === 'string' && part.thought !== true)
    .map((part) => part.text as string)
    .join(' ');
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

function googleError(response: ServerResponse, code: number, status: string, message: string, details?: Json[]): void {
  const error: Json = { code, message, status };
  if (details) error.details = details;
  sendJson(response, code, { error });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const negligibleRatings = [
  { category: 'HARM_CATEGORY_SEXUALLY_EXPLICIT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'NEGLIGIBLE' },
];

export async function startGeminiSimulator(options: GeminiSimulatorOptions = {}): Promise<GeminiSimulator> {
  const models = options.models ?? defaultModels;
  const requests: GeminiRecordedRequest[] = [];
  const issuedSignatures: string[] = [];
  const abortWaiters: (() => void)[] = [];
  let responseCounter = 0;

  const server: Server = createSimulatorServer(handle, (response, message) => googleError(response, 500, 'INTERNAL', message));
  let baseUrl = '';
  const batches = createGeminiBatchesSimulator({ baseUrl: () => baseUrl, apiKey: options.apiKey, error: googleError });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://simulator');
    const { text, body, invalid } = await readRequestJson(request);
    if (invalid) {
      googleError(response, 400, 'INVALID_ARGUMENT', `Invalid JSON payload received. Unexpected token.\n${text.slice(0, 20)}`);
      return;
    }
    const match = /^\/v1beta\/models(?:\/([^/:]+):([A-Za-z]+))?$/.exec(url.pathname);
    const action = match?.[2] ?? (match ? 'models' : 'unknown');
    const model = match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
    const recorded: GeminiRecordedRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      body,
      action,
      model,
      aborted: false,
    };
    requests.push(recorded);
    response.on('close', () => {
      if (!response.writableFinished) {
        recorded.aborted = true;
        for (const waiter of abortWaiters.splice(0)) waiter();
      }
    });
    if (!match && !url.pathname.startsWith('/v1beta/batches/')) {
      googleError(response, 404, 'NOT_FOUND', `The requested URL ${url.pathname} was not found on this server.`);
      return;
    }
    const key = request.headers['x-goog-api-key'] ?? url.searchParams.get('key') ?? undefined;
    if (options.apiKey !== undefined) {
      if (key === undefined) {
        googleError(
          response,
          403,
          'PERMISSION_DENIED',
          "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        );
        return;
      }
      if (key !== options.apiKey) {
        googleError(response, 400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'API_KEY_INVALID',
            domain: 'googleapis.com',
            metadata: { service: 'generativelanguage.googleapis.com' },
          },
        ]);
        return;
      }
    }
    if (await batches.handle(request.method ?? 'GET', url.pathname, model, body, response)) return;
    if (action === 'models') {
      if (request.method !== 'GET') {
        googleError(response, 405, 'INVALID_ARGUMENT', 'Method not allowed');
        return;
      }
      listModels(url.searchParams, response);
      return;
    }
    if (request.method !== 'POST' || !body || model === undefined) {
      googleError(response, 400, 'INVALID_ARGUMENT', '* GenerateContentRequest.contents: contents is not specified');
      return;
    }
    if (scenario(model, response)) return;
    if (!models.includes(model) && !model.startsWith('gemini-sim-')) {
      googleError(
        response,
        404,
        'NOT_FOUND',
        `models/${model} is not found for API version v1beta, or is not supported for ${action}. Call ListModels to see the list of available models and their supported methods.`,
      );
      return;
    }
    if (action === 'generateContent') return generate(model, body, false, url.searchParams, response);
    if (action === 'streamGenerateContent') return generate(model, body, true, url.searchParams, response);
    if (action === 'embedContent') return embed(model, body, response);
    if (action === 'batchEmbedContents') return batchEmbed(model, body, response);
    googleError(response, 404, 'NOT_FOUND', `Method ${action} not found for models/${model}.`);
  }

  function listModels(query: URLSearchParams, response: ServerResponse): void {
    const pageSize = Math.min(Number(query.get('pageSize') ?? '50'), options.maxPageSize ?? 1000);
    const start = Number(query.get('pageToken') ?? '0');
    const all = models.map((name) => ({
      name: `models/${name}`,
      version: '001',
      displayName: name,
      description: `Simulated ${name}`,
      inputTokenLimit: 1_048_576,
      outputTokenLimit: 65_536,
      supportedGenerationMethods: name.includes('imagen')
        ? ['predict']
        : name.includes('embedding')
          ? ['embedContent', 'batchEmbedContents']
          : ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'],
    }));
    const page = all.slice(start, start + pageSize);
    const result: Json = { models: page };
    if (start + pageSize < all.length) result.nextPageToken = String(start + pageSize);
    sendJson(response, 200, result);
  }

  function scenario(model: string, response: ServerResponse): boolean {
    if (model === 'gemini-sim-rate-limited') {
      googleError(
        response,
        429,
        'RESOURCE_EXHAUSTED',
        'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
        [
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [
              {
                quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
                quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
                quotaValue: '10',
              },
            ],
          },
          {
            '@type': 'type.googleapis.com/google.rpc.Help',
            links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }],
          },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '17s' },
        ],
      );
      return true;
    }
    if (model === 'gemini-sim-server-error') {
      googleError(
        response,
        500,
        'INTERNAL',
        'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
      );
      return true;
    }
    if (model === 'gemini-sim-overloaded') {
      googleError(response, 503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.');
      return true;
    }
    return false;
  }

  /** Gemini 3 validation: each model turn's first functionCall part must carry a signature we issued. */
  function missingSignature(contents: Json[]): number | null {
    for (let index = 0; index < contents.length; index++) {
      const content = contents[index] as Json;
      if (content.role !== 'model') continue;
      const firstCall = partsOf(content).find((part) => part.functionCall !== undefined);
      if (!firstCall) continue;
      const signature = firstCall.thoughtSignature;
      if (typeof signature !== 'string' || !issuedSignatures.includes(signature)) return index;
    }
    return null;
  }

  async function generate(model: string, body: Json, stream: boolean, query: URLSearchParams, response: ServerResponse): Promise<void> {
    responseCounter += 1;
    const responseId = `simResp${responseCounter.toString().padStart(6, '0')}`;
    const contents = Array.isArray(body.contents) ? (body.contents as Json[]) : [];
    if (contents.length === 0) {
      googleError(response, 400, 'INVALID_ARGUMENT', '* GenerateContentRequest.contents: contents is not specified');
      return;
    }
    for (const content of contents) {
      if (content.role !== 'user' && content.role !== 'model') {
        googleError(response, 400, 'INVALID_ARGUMENT', `Please use a valid role: user, model.`);
        return;
      }
    }
    const unsigned = missingSignature(contents);
    if (unsigned !== null) {
      googleError(
        response,
        400,
        'INVALID_ARGUMENT',
        `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call \`default_api:lookup\` , position ${unsigned + 1}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`,
      );
      return;
    }
    const generationConfig = (body.generationConfig as Json | undefined) ?? {};
    const thinkingConfig = (generationConfig.thinkingConfig as Json | undefined) ?? {};
    const systemText = textOfParts(partsOf(body.systemInstruction));
    let promptTokenCount = countWords(systemText);
    for (const content of contents) promptTokenCount += countWords(textOfParts(partsOf(content)));
    const last = contents.at(-1) as Json;
    const lastParts = partsOf(last);
    const functionResponse = lastParts.find((part) => part.functionResponse !== undefined)?.functionResponse as Json | undefined;
    const lastUser = [...contents]
      .reverse()
      .find((content) => content.role === 'user' && partsOf(content).some((part) => typeof part.text === 'string'));
    const images = lastParts.filter((part) => part.inlineData !== undefined || part.fileData !== undefined).length;
    const declarations = Array.isArray(body.tools)
      ? (body.tools as Json[]).flatMap((tool) => (Array.isArray(tool.functionDeclarations) ? (tool.functionDeclarations as Json[]) : []))
      : [];
    const mode = ((body.toolConfig as Json | undefined)?.functionCallingConfig as Json | undefined)?.mode;
    const allowed = ((body.toolConfig as Json | undefined)?.functionCallingConfig as Json | undefined)?.allowedFunctionNames;
    const callable = Array.isArray(allowed)
      ? declarations.filter((declaration) => (allowed as unknown[]).includes(declaration.name))
      : declarations;
    const wantsCall = callable.length > 0 && mode !== 'NONE' && functionResponse === undefined;
    const thinking = model === 'gemini-sim-thinking';
    const thoughtsTokenCount = thinking ? 12 : 0;

    let reply: string;
    if (functionResponse) reply = `Tool said: ${JSON.stringify(functionResponse.response)}`;
    else reply = `Hello from gemini: ${textOfParts(partsOf(lastUser))}${images > 0 ? ` (${images} image${images > 1 ? 's' : ''})` : ''}`;
    if (systemText) reply += ` [system: ${systemText}]`;
    if (generationConfig.responseMimeType === 'application/json') reply = JSON.stringify({ echo: reply });
    let pieces = reply.split(/(?<= )/);
    let finishReason = 'STOP';
    const maxOutputTokens = generationConfig.maxOutputTokens;
    if (!wantsCall && typeof maxOutputTokens === 'number' && pieces.length > maxOutputTokens) {
      pieces = pieces.slice(0, maxOutputTokens);
      finishReason = 'MAX_TOKENS';
    }
    const candidateCount = typeof generationConfig.candidateCount === 'number' ? generationConfig.candidateCount : 1;
    const signature = Buffer.from(`sim-signature-${responseCounter}`).toString('base64');
    const scripted = scriptedToolCall(textOfParts(partsOf(lastUser)), callable.map((declaration) => String(declaration.name)));
    const callArgs = scripted?.input ?? { location: 'Paris' };
    const candidatesTokenCount = (wantsCall ? 7 : pieces.length) * candidateCount;
    const usageMetadata: Json = {
      promptTokenCount,
      candidatesTokenCount,
      totalTokenCount: promptTokenCount + candidatesTokenCount + thoughtsTokenCount,
      promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokenCount }],
    };
    if (thoughtsTokenCount > 0) usageMetadata.thoughtsTokenCount = thoughtsTokenCount;
    const thoughtPart: Json | null =
      thinking && thinkingConfig.includeThoughts === true ? { text: '**Planning** I should answer politely.', thought: true } : null;
    const callPart = (): Json => {
      issuedSignatures.push(signature);
      return { functionCall: { name: scripted?.name ?? String(callable[0]?.name ?? ''), args: callArgs }, thoughtSignature: signature };
    };
    const base = { modelVersion: model, responseId };

    if (model === 'gemini-sim-prompt-blocked') {
      const blocked = {
        promptFeedback: {
          blockReason: 'SAFETY',
          safetyRatings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true }],
        },
        usageMetadata: { promptTokenCount, totalTokenCount: promptTokenCount },
        ...base,
      };
      if (stream) return writeStream(response, [blocked]);
      sendJson(response, 200, blocked);
      return;
    }
    if (model === 'gemini-sim-safety') {
      const partial = { candidates: [{ content: { parts: [{ text: 'I started to ' }], role: 'model' }, index: 0 }], ...base };
      const final = {
        candidates: [
          {
            finishReason: 'SAFETY',
            index: 0,
            safetyRatings: [
              { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true },
              ...negligibleRatings.slice(0, 3),
            ],
          },
        ],
        usageMetadata: { promptTokenCount, candidatesTokenCount: 4, totalTokenCount: promptTokenCount + 4 },
        ...base,
      };
      if (stream) return writeStream(response, [partial, final]);
      sendJson(response, 200, { candidates: final.candidates, usageMetadata: final.usageMetadata, ...base });
      return;
    }

    if (!stream) {
      const candidates = Array.from({ length: candidateCount }, (_unused, index) => {
        const parts: Json[] = [];
        if (thoughtPart) parts.push(thoughtPart);
        if (wantsCall) parts.push(callPart());
        else parts.push({ text: pieces.join('') });
        return { content: { parts, role: 'model' }, finishReason, index, safetyRatings: negligibleRatings };
      });
      sendJson(response, 200, { candidates, usageMetadata, ...base });
      return;
    }
    if (query.get('alt') !== 'sse') {
      // Without alt=sse the stream is one JSON array of GenerateContentResponse objects.
      const parts: Json[] = wantsCall ? [callPart()] : [{ text: pieces.join('') }];
      sendJson(response, 200, [{ candidates: [{ content: { parts, role: 'model' }, finishReason, index: 0 }], usageMetadata, ...base }]);
      return;
    }
    const events: Json[] = [];
    const runningUsage = { promptTokenCount, totalTokenCount: promptTokenCount, promptTokensDetails: usageMetadata.promptTokensDetails };
    if (thoughtPart)
      events.push({ candidates: [{ content: { parts: [thoughtPart], role: 'model' }, index: 0 }], usageMetadata: runningUsage, ...base });
    if (wantsCall) {
      events.push({
        candidates: [{ content: { parts: [callPart()], role: 'model' }, finishReason, index: 0, safetyRatings: negligibleRatings }],
        usageMetadata,
        ...base,
      });
    } else {
      for (let index = 0; index < pieces.length; index++) {
        const isLast = index === pieces.length - 1;
        const candidate: Json = { content: { parts: [{ text: pieces[index] }], role: 'model' }, index: 0 };
        if (isLast) {
          candidate.finishReason = finishReason;
          candidate.safetyRatings = negligibleRatings;
        }
        events.push({ candidates: [candidate], usageMetadata: isLast ? usageMetadata : runningUsage, ...base });
      }
    }
    if (model === 'gemini-sim-hang-stream') {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(`data: ${JSON.stringify(events[0])}\r\n\r\n`);
      await new Promise<void>((resolve) => response.once('close', () => resolve()));
      return;
    }
    if (model === 'gemini-sim-stream-error') {
      events.splice(1, events.length, { error: { code: 500, message: 'An internal error has occurred.', status: 'INTERNAL' } });
    }
    return writeStream(response, events);
  }

  async function writeStream(response: ServerResponse, events: Json[]): Promise<void> {
    response.writeHead(200, {
      'content-type': 'text/event-stream',
      'content-disposition': 'attachment',
      'x-content-type-options': 'nosniff',
    });
    for (const event of events) {
      response.write(`data: ${JSON.stringify(event)}\r\n\r\n`);
      if (options.chunkDelayMs) await sleep(options.chunkDelayMs);
    }
    response.end();
  }

  function vectorFor(text: string, dimensions: number): number[] {
    return Array.from({ length: dimensions }, (_unused, position) => Number(((text.length + position + 1) / 100).toFixed(6)));
  }

  function embedRequestText(request: Json): string | null {
    const parts = partsOf(request.content);
    if (parts.length === 0) return null;
    return textOfParts(parts);
  }

  function embed(model: string, body: Json, response: ServerResponse): void {
    const text = embedRequestText(body);
    if (text === null) {
      googleError(response, 400, 'INVALID_ARGUMENT', '* EmbedContentRequest.content: contents is not specified');
      return;
    }
    const dimensions = typeof body.outputDimensionality === 'number' ? body.outputDimensionality : 8;
    sendJson(response, 200, { embedding: { values: vectorFor(text, dimensions) } });
    void model;
  }

  function batchEmbed(model: string, body: Json, response: ServerResponse): void {
    const batch = Array.isArray(body.requests) ? (body.requests as Json[]) : [];
    if (batch.length === 0) {
      googleError(response, 400, 'INVALID_ARGUMENT', '* BatchEmbedContentsRequest.requests: requests is not specified');
      return;
    }
    const embeddings: Json[] = [];
    for (let index = 0; index < batch.length; index++) {
      const request = batch[index] as Json;
      if (request.model !== `models/${model}`) {
        googleError(
          response,
          400,
          'INVALID_ARGUMENT',
          `* BatchEmbedContentsRequest.requests[${index}].model: unexpected model name format`,
        );
        return;
      }
      const text = embedRequestText(request);
      if (text === null) {
        googleError(response, 400, 'INVALID_ARGUMENT', `* BatchEmbedContentsRequest.requests[${index}].content: contents is not specified`);
        return;
      }
      const dimensions = typeof request.outputDimensionality === 'number' ? request.outputDimensionality : 8;
      embeddings.push({ values: vectorFor(text, dimensions) });
    }
    sendJson(response, 200, { embeddings });
  }

  const listening = await listenSimulator(server, requests, abortWaiters);
  const url = listening.url;
  baseUrl = `${url}/v1beta`;
  return {
    url,
    baseUrl,
    batches,
    requests,
    issuedSignatures,
    waitForAbort: listening.waitForAbort,
    close: listening.close,
  };
}
