/**
 * One factory for every provider that speaks the OpenAI wire format, with per-provider quirks
 * (auth header, URL layout, static model lists, stream usage, parameters the upstream rejects).
 */
import { GatewayError } from '../../core/errors.ts';
import { parseSse } from '../../core/sse.ts';
import { type Usage, usageFromOpenAI } from '../../core/usage.ts';
import type { CallContext, Json, JsonResult, Provider, ProviderResult, StreamChunk, StreamResult } from '../types.ts';
import {
  readJson,
  readJsonText,
  readText,
  transportError,
  type UpstreamClient,
  type UpstreamResponse,
  upstreamHttpError,
} from '../upstream-client.ts';

export type OpenAIEndpoint = 'chat/completions' | 'embeddings' | 'models' | 'responses';

export interface OpenAICompatibleOptions {
  name: string;
  type: string;
  baseUrl: string;
  apiKey?: string | undefined;
  /** How the key travels: `Authorization: Bearer` (default), Azure's `api-key`, or not at all. */
  authStyle?: 'bearer' | 'api-key' | 'none';
  /** Extra headers on every upstream request (OpenRouter attribution, for example). */
  headers?: Record<string, string>;
  /** Models served, where the upstream has no usable models endpoint (Oracle, Azure deployments). */
  models?: string[] | undefined;
  /** Builds the upstream URL; default `${baseUrl}/${endpoint}`. */
  urlFor?: (endpoint: OpenAIEndpoint, model: string | undefined) => string;
  /** Whether the upstream accepts `stream_options.include_usage` (otherwise it sends usage by itself or not at all). */
  supportsStreamOptions?: boolean;
  /** Request parameters the upstream rejects; removed and reported as dropped. */
  unsupportedParams?: string[];
  /** Whether the upstream serves the OpenAI Responses API natively. */
  nativeResponses?: boolean;
  client: UpstreamClient;
}

const forwardedSuccessHeaders = ['x-request-id', 'openai-processing-ms'];

export function createOpenAICompatibleProvider(options: OpenAICompatibleOptions): Provider {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const urlFor = options.urlFor ?? ((endpoint: OpenAIEndpoint) => `${baseUrl}/${endpoint}`);
  const authStyle = options.authStyle ?? 'bearer';
  const supportsStreamOptions = options.supportsStreamOptions ?? true;
  const baseHeaders: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.apiKey && authStyle === 'bearer') baseHeaders.authorization = `Bearer ${options.apiKey}`;
  if (options.apiKey && authStyle === 'api-key') baseHeaders['api-key'] = options.apiKey;

  async function post(endpoint: OpenAIEndpoint, body: Json, context: CallContext): Promise<UpstreamResponse> {
    const model = typeof body.model === 'string' ? body.model : undefined;
    const response = await options.client.send({
      provider: options.name,
      url: urlFor(endpoint, model),
      headers: body.stream === true ? { ...baseHeaders, accept: 'text/event-stream' } : baseHeaders,
      body: JSON.stringify(body),
      signal: context.signal,
    });
    if (response.status >= 400) {
      const text = await readText(response.body, options.name, context.signal);
      throw upstreamHttpError(options.name, response.status, response.headers, text);
    }
    return response;
  }

  function dropUnsupported(body: Json, context: CallContext): Json {
    if (!options.unsupportedParams || options.unsupportedParams.length === 0) return body;
    let copy: Json | undefined;
    for (const param of options.unsupportedParams) {
      if (param in body) {
        copy ??= { ...body };
        delete copy[param];
        context.droppedParams.push(param);
      }
    }
    return copy ?? body;
  }

  async function jsonResult(response: UpstreamResponse, context: CallContext): Promise<JsonResult> {
    const { json: body, text } = await readJsonText(response.body, options.name, context.signal);
    return {
      kind: 'json',
      status: response.status,
      body,
      rawBody: text,
      headers: pickHeaders(response.headers),
      usage: usageFromOpenAI(body.usage),
    };
  }

  async function chatCompletions(requestBody: Json, context: CallContext): Promise<ProviderResult> {
    let body = dropUnsupported(requestBody, context);
    if (body.stream !== true) return jsonResult(await post('chat/completions', body, context), context);
    const streamOptions = body.stream_options as Json | undefined;
    const clientAskedUsage = streamOptions?.include_usage === true;
    if (supportsStreamOptions && !clientAskedUsage) {
      body = { ...body, stream_options: { ...streamOptions, include_usage: true } };
    } else if (!supportsStreamOptions && streamOptions !== undefined) {
      body = { ...body };
      delete body.stream_options;
      context.droppedParams.push('stream_options');
    }
    const response = await post('chat/completions', body, context);
    return chatStream(response, context, clientAskedUsage || !supportsStreamOptions);
  }

  function chatStream(response: UpstreamResponse, context: CallContext, clientAskedUsage: boolean): StreamResult {
    let usage: Usage | null = null;
    const provider = options.name;
    async function* chunks(): AsyncGenerator<StreamChunk> {
      // Set once the upstream said it is done: what is left of the body (normally nothing) is read,
      // not aborted, so the connection stays reusable and no abort error is built per stream.
      let complete = false;
      try {
        for await (const message of parseSse(response.body.iterator({ destroyOnReturn: false }))) {
          const data = message.data;
          if (data === '[DONE]') {
            complete = true;
            return;
          }
          if (data.includes('"usage"') || data.includes('"x_groq"')) {
            const parsed = safeParse(data);
            const found = usageFromOpenAI(parsed?.usage) ?? usageFromOpenAI((parsed?.x_groq as Json | undefined)?.usage);
            if (found) usage = found;
            const choices = parsed?.choices;
            const usageOnly = found !== null && Array.isArray(choices) && choices.length === 0;
            if (usageOnly && !clientAskedUsage) {
              yield { data, usageOnly: true };
              continue;
            }
          }
          if (data.startsWith('{"error"')) {
            const parsed = safeParse(data);
            const error = parsed?.error as Json | undefined;
            throw new GatewayError(`${provider}: ${String(error?.message ?? 'stream error')}`, {
              status: 502,
              code: typeof error?.code === 'string' ? error.code : 'upstream_stream_error',
              type: 'upstream_error',
              provider,
            });
          }
          yield { data };
        }
        complete = true;
      } catch (error) {
        throw transportError(error, provider, context.signal);
      } finally {
        if (!response.body.destroyed) {
          if (complete) response.body.dump().catch(() => undefined);
          else response.body.destroy();
        }
      }
    }
    return { kind: 'stream', status: response.status, headers: pickHeaders(response.headers), chunks: chunks(), usage: () => usage };
  }

  async function embeddings(body: Json, context: CallContext): Promise<JsonResult> {
    return jsonResult(await post('embeddings', dropUnsupported(body, context), context), context);
  }

  async function responses(body: Json, context: CallContext): Promise<ProviderResult> {
    const response = await post('responses', body, context);
    if (body.stream !== true) return jsonResult(response, context);
    let usage: Usage | null = null;
    async function* chunks(): AsyncGenerator<StreamChunk> {
      try {
        for await (const message of parseSse(response.body)) {
          if (message.data === '[DONE]') return;
          if (message.event === 'response.completed' || message.data.includes('"response.completed"')) {
            const parsed = safeParse(message.data);
            usage = usageFromOpenAI((parsed?.response as Json | undefined)?.usage) ?? usage;
          }
          yield message.event === undefined ? { data: message.data } : { data: message.data, event: message.event };
        }
      } catch (error) {
        throw transportError(error, options.name, context.signal);
      } finally {
        if (!response.body.destroyed) response.body.destroy();
      }
    }
    return { kind: 'stream', status: response.status, headers: pickHeaders(response.headers), chunks: chunks(), usage: () => usage };
  }

  async function listModels(signal?: AbortSignal): Promise<string[]> {
    if (options.models && options.models.length > 0) return [...options.models];
    const response = await options.client.send({
      provider: options.name,
      url: urlFor('models', undefined),
      method: 'GET',
      headers: baseHeaders,
      ...(signal ? { signal } : {}),
    });
    if (response.status >= 400) {
      const text = await readText(response.body, options.name, signal);
      throw upstreamHttpError(options.name, response.status, response.headers, text);
    }
    const body = await readJson(response.body, options.name, signal);
    const data = Array.isArray(body.data) ? body.data : Array.isArray(body.models) ? body.models : [];
    const ids: string[] = [];
    for (const entry of data) {
      if (entry && typeof entry === 'object') {
        const id = (entry as Json).id ?? (entry as Json).name ?? (entry as Json).model;
        if (typeof id === 'string') ids.push(id);
      }
    }
    return ids;
  }

  const provider: Provider = {
    name: options.name,
    type: options.type,
    listModels,
    chatCompletions,
    embeddings,
  };
  if (options.nativeResponses) provider.responses = responses;
  return provider;
}

function safeParse(data: string): Json | undefined {
  try {
    const parsed = JSON.parse(data) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Json) : undefined;
  } catch {
    return undefined;
  }
}

function pickHeaders(headers: Record<string, string>): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of forwardedSuccessHeaders) {
    const value = headers[name];
    if (value !== undefined) picked[`x-upstream-${name.replace(/^x-/, '')}`] = value;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('x-ratelimit-')) picked[name] = value;
  }
  return picked;
}
