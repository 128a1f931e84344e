/**
 * One factory for every provider that speaks the OpenAI wire format, with per-provider quirks
 * (auth header, URL layout, static model lists, stream usage, parameters the upstream rejects).
 */
import { GatewayError } from '../../core/errors.ts';
import { type Usage, usageFromOpenAI } from '../../core/usage.ts';
import type { CallContext, Json, JsonResult, Provider, ProviderResult, StreamChunk, StreamResult } from '../types.ts';
import { parseEventObject, readEvents, readJson, readJsonText, rejectUnsuccessful, releaseBody } from '../upstream-body.ts';
import type { UpstreamClient, UpstreamResponse } from '../upstream-client.ts';

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
  /**
   * For strict upstreams, which reject fields they do not define: the only top-level chat fields sent
   * (see chat-params.ts); any other is removed and reported as dropped.
   */
  acceptedChatParams?: ReadonlySet<string>;
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
    await rejectUnsuccessful(response);
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

  function dropUnaccepted(body: Json, context: CallContext): Json {
    const accepted = options.acceptedChatParams;
    if (!accepted) return body;
    let copy: Json | undefined;
    for (const key in body) {
      if (accepted.has(key)) continue;
      copy ??= { ...body };
      delete copy[key];
      context.droppedParams.push(key);
    }
    return copy ?? body;
  }

  async function jsonResult(response: UpstreamResponse): Promise<JsonResult> {
    const { json: body, text } = await readJsonText(response);
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
    let body = dropUnaccepted(dropUnsupported(requestBody, context), context);
    if (body.stream !== true) return jsonResult(await post('chat/completions', body, context));
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
    return chatStream(response, clientAskedUsage || !supportsStreamOptions);
  }

  function chatStream(response: UpstreamResponse, clientAskedUsage: boolean): StreamResult {
    let usage: Usage | null = null;
    const provider = options.name;
    async function* chunks(): AsyncGenerator<StreamChunk> {
      // Set once the upstream said it is done: what is left of the body (normally nothing) is read,
      // not aborted, so the connection stays reusable and no abort error is built per stream.
      let complete = false;
      try {
        for await (const message of readEvents(response)) {
          const data = message.data;
          if (data === '[DONE]') {
            complete = true;
            return;
          }
          const event = parseEventObject(provider, data);
          if (event.error !== undefined && event.error !== null) throw streamError(provider, event.error);
          const found = event.usage === undefined && event.x_groq === undefined ? null : (usageFromOpenAI(event.usage) ?? usageFromOpenAI((event.x_groq as Json | undefined)?.usage));
          if (found) {
            usage = found;
            if (!clientAskedUsage && Array.isArray(event.choices) && event.choices.length === 0) {
              yield { data, usageOnly: true, json: event };
              continue;
            }
          }
          yield { data, json: event };
        }
        complete = true;
      } finally {
        releaseBody(response, complete);
      }
    }
    return { kind: 'stream', status: response.status, headers: pickHeaders(response.headers), chunks: chunks(), usage: () => usage, abort: () => releaseBody(response, false) };
  }

  async function embeddings(body: Json, context: CallContext): Promise<JsonResult> {
    return jsonResult(await post('embeddings', dropUnsupported(body, context), context));
  }

  async function responses(body: Json, context: CallContext): Promise<ProviderResult> {
    const response = await post('responses', body, context);
    if (body.stream !== true) return jsonResult(response);
    let usage: Usage | null = null;
    const provider = options.name;
    async function* chunks(): AsyncGenerator<StreamChunk> {
      let complete = false;
      try {
        for await (const message of readEvents(response)) {
          if (message.data === '[DONE]') {
            complete = true;
            return;
          }
          const event = parseEventObject(provider, message.data);
          // https://platform.openai.com/docs/api-reference/responses-streaming/error: the stream failed.
          if (event.type === 'error' || message.event === 'error') throw streamError(provider, event);
          if (event.type === 'response.completed' || event.type === 'response.incomplete' || event.type === 'response.failed') {
            usage = usageFromOpenAI((event.response as Json | undefined)?.usage) ?? usage;
          }
          yield message.event === undefined ? { data: message.data, json: event } : { data: message.data, event: message.event, json: event };
        }
        complete = true;
      } finally {
        releaseBody(response, complete);
      }
    }
    return { kind: 'stream', status: response.status, headers: pickHeaders(response.headers), chunks: chunks(), usage: () => usage, abort: () => releaseBody(response, false) };
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
    await rejectUnsuccessful(response);
    const body = await readJson(response);
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

/** An error met inside a stream (`{"error":{...}}` in chat, an `error` event in Responses) as a 502 that ends it. */
function streamError(provider: string, raw: unknown): GatewayError {
  const error = raw && typeof raw === 'object' ? (raw as Json) : {};
  const message = typeof error.message === 'string' ? error.message : typeof raw === 'string' ? raw : 'stream error';
  return new GatewayError(`${provider}: ${message}`, {
    status: 502,
    code: typeof error.code === 'string' ? error.code : 'upstream_stream_error',
    type: 'upstream_error',
    provider,
  });
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
