/**
 * Native Gemini API provider (https://ai.google.dev/api): OpenAI chat completions and embeddings are
 * translated to generateContent / streamGenerateContent?alt=sse / embedContent / batchEmbedContents.
 * The key travels in the `x-goog-api-key` header only, never as `?key=` (URLs end up in logs).
 */
import { GatewayError } from '../../core/errors.ts';
import type { CallContext, Json, JsonResult, Provider, ProviderResult, StreamChunk, StreamResult } from '../types.ts';
import { parseEventObject, readEvents, readJson, rejectUnsuccessful, releaseBody } from '../upstream-body.ts';
import { type UpstreamClient, type UpstreamResponse, upstreamHttpError } from '../upstream-client.ts';
import { chatRequestToGemini } from './gemini-chat-translation.ts';
import { embeddingsRequestToGemini, geminiEmbeddingsToOpenAI } from './gemini-embeddings-translation.ts';
import {
  createGeminiStreamTranslator,
  geminiResponseToChat,
  type ResponseIdentity,
  usageFromGemini,
} from './gemini-response-translation.ts';

export const defaultGeminiBaseUrl = 'https://generativelanguage.googleapis.com/v1beta';

export interface GeminiProviderOptions {
  name: string;
  baseUrl: string;
  apiKey?: string | undefined;
  headers?: Record<string, string>;
  /** Models served; when empty the list comes from GET /models. */
  models?: string[] | undefined;
  client: UpstreamClient;
}

/** Methods that make a model usable through the gateway's chat or embeddings routes. */
const usefulMethods = new Set(['generateContent', 'streamGenerateContent', 'embedContent', 'batchEmbedContents']);

/** Seconds from a google.rpc.RetryInfo `retryDelay` such as "17s" or "0.5s". */
export function retryDelaySeconds(text: string): number | undefined {
  try {
    const parsed = JSON.parse(text) as unknown;
    const body = (Array.isArray(parsed) ? parsed[0] : parsed) as Json | undefined;
    const details = (body?.error as Json | undefined)?.details;
    if (!Array.isArray(details)) return undefined;
    for (const detail of details as Json[]) {
      if (detail?.['@type'] !== 'type.googleapis.com/google.rpc.RetryInfo') continue;
      const match = /^(\d+(?:\.\d+)?)s$/.exec(String(detail.retryDelay ?? ''));
      if (match) return Math.ceil(Number(match[1]));
    }
  } catch {
    // not JSON: no retry info
  }
  return undefined;
}

function apiKeyInvalid(text: string): boolean {
  return text.includes('"API_KEY_INVALID"');
}

/** Gemini's {"error":{"code","message","status","details"}} -> GatewayError, with Retry-After from RetryInfo. */
export function geminiHttpError(provider: string, status: number, headers: Record<string, string>, text: string): GatewayError {
  const withRetry = { ...headers };
  const delay = retryDelaySeconds(text);
  if (delay !== undefined && withRetry['retry-after'] === undefined) withRetry['retry-after'] = String(delay);
  // A rejected key is reported by Gemini as 400 INVALID_ARGUMENT; it is an authentication failure.
  const mappedStatus = status === 400 && apiKeyInvalid(text) ? 401 : status;
  return upstreamHttpError(provider, mappedStatus, withRetry, text);
}

export function createGeminiProvider(options: GeminiProviderOptions): Provider {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.apiKey) headers['x-goog-api-key'] = options.apiKey;

  const modelUrl = (model: string, action: string, query = '') => `${baseUrl}/models/${encodeURIComponent(model)}:${action}${query}`;

  async function send(url: string, body: Json | undefined, context: { signal?: AbortSignal }, accept?: string): Promise<UpstreamResponse> {
    const response = await options.client.send({
      provider: options.name,
      url,
      method: body === undefined ? 'GET' : 'POST',
      headers: accept ? { ...headers, accept } : headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(context.signal ? { signal: context.signal } : {}),
    });
    await rejectUnsuccessful(response, geminiHttpError);
    return response;
  }

  function identity(model: string, responseId?: unknown): ResponseIdentity {
    const suffix = typeof responseId === 'string' && responseId !== '' ? responseId : crypto.randomUUID().replaceAll('-', '');
    return { id: `chatcmpl-${suffix}`, model, created: Math.floor(Date.now() / 1000) };
  }

  async function chatCompletions(body: Json, context: CallContext): Promise<ProviderResult> {
    const request = chatRequestToGemini(body, context.droppedParams);
    if (!request.stream) {
      const response = await send(modelUrl(request.model, 'generateContent'), request.body, context);
      const upstream = await readJson(response);
      const result = geminiResponseToChat(upstream, identity(request.model, upstream.responseId));
      const usage = usageFromGemini(upstream.usageMetadata);
      return { kind: 'json', status: 200, body: result, headers: {}, usage };
    }
    const response = await send(modelUrl(request.model, 'streamGenerateContent', '?alt=sse'), request.body, context, 'text/event-stream');
    return chatStream(response, request.model, request.includeUsage);
  }

  function chatStream(response: UpstreamResponse, model: string, clientAskedUsage: boolean): StreamResult {
    let translator: ReturnType<typeof createGeminiStreamTranslator> | null = null;
    const provider = options.name;
    async function* chunks(): AsyncGenerator<StreamChunk> {
      let complete = false;
      try {
        for await (const message of readEvents(response)) {
          const data = message.data.trim();
          if (data === '') continue;
          const event = parseEventObject(provider, data);
          if (event.error && typeof event.error === 'object') {
            const error = event.error as Json;
            throw new GatewayError(`${provider}: ${String(error.message ?? 'stream error')}`, {
              status: 502,
              code: typeof error.status === 'string' ? error.status.toLowerCase() : 'upstream_stream_error',
              type: 'upstream_error',
              provider,
            });
          }
          translator ??= createGeminiStreamTranslator(identity(model, event.responseId));
          for (const chunk of translator.push(event)) yield { data: JSON.stringify(chunk), json: chunk };
        }
        complete = true;
        const usageChunk = translator?.usageChunk();
        if (usageChunk)
          yield clientAskedUsage
            ? { data: JSON.stringify(usageChunk), json: usageChunk }
            : { data: JSON.stringify(usageChunk), usageOnly: true, json: usageChunk };
      } finally {
        releaseBody(response, complete);
      }
    }
    return {
      kind: 'stream',
      status: 200,
      headers: {},
      chunks: chunks(),
      usage: () => translator?.usage() ?? null,
      abort: () => releaseBody(response, false),
    };
  }

  async function embeddings(body: Json, context: CallContext): Promise<JsonResult> {
    const request = embeddingsRequestToGemini(body, context.droppedParams);
    const response = await send(modelUrl(request.model, request.action), request.body, context);
    const upstream = await readJson(response);
    const translated = geminiEmbeddingsToOpenAI(upstream, request);
    return { kind: 'json', status: 200, body: translated.body, headers: {}, usage: translated.usage };
  }

  async function listModels(signal?: AbortSignal): Promise<string[]> {
    if (options.models && options.models.length > 0) return [...options.models];
    const ids: string[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < 50; page++) {
      const query = new URLSearchParams({ pageSize: '1000' });
      if (pageToken) query.set('pageToken', pageToken);
      const response = await send(`${baseUrl}/models?${query.toString()}`, undefined, signal ? { signal } : {});
      const body = await readJson(response);
      const models = Array.isArray(body.models) ? (body.models as unknown[]) : [];
      for (const entry of models) {
        if (!entry || typeof entry !== 'object') continue;
        const model = entry as Json;
        if (typeof model.name !== 'string') continue;
        const methods = model.supportedGenerationMethods;
        if (Array.isArray(methods) && !methods.some((method) => usefulMethods.has(String(method)))) continue;
        ids.push(model.name.replace(/^models\//, ''));
      }
      pageToken = typeof body.nextPageToken === 'string' && body.nextPageToken !== '' ? body.nextPageToken : undefined;
      if (!pageToken) break;
    }
    return ids;
  }

  return { name: options.name, type: 'gemini', listModels, chatCompletions, embeddings };
}
