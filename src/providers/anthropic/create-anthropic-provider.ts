/**
 * The Anthropic provider: OpenAI chat requests translated to the Messages API and back, natively
 * (https://docs.anthropic.com/en/api/messages). Translation lives in pure functions next to this file.
 */
import { GatewayError } from '../../core/errors.ts';
import type { Usage } from '../../core/usage.ts';
import type { CallContext, Json, JsonResult, Provider, ProviderResult, StreamChunk } from '../types.ts';
import { parseEventObject, readEvents, readJson, rejectUnsuccessful, releaseBody } from '../upstream-body.ts';
import { type UpstreamClient, type UpstreamResponse, upstreamHttpError } from '../upstream-client.ts';
import { toAnthropicRequest } from './anthropic-request.ts';
import { applyReasoningEffort, type ThinkingStyle } from './anthropic-thinking.ts';
import { anthropicFeatureHeaders } from './anthropic-feature-headers.ts';
import { fromAnthropicMessage } from './anthropic-response.ts';
import { anthropicStreamError, createAnthropicStreamTranslator } from './anthropic-stream.ts';

export const anthropicVersion = '2023-06-01';
export const defaultAnthropicBaseUrl = 'https://api.anthropic.com';

export interface AnthropicProviderOptions {
  name: string;
  baseUrl: string;
  apiKey?: string | undefined;
  headers?: Record<string, string>;
  /** Static model list (ANTHROPIC_MODELS); otherwise GET /v1/models. */
  models?: string[] | undefined;
  client: UpstreamClient;
  /** Clock for `created`, replaceable in tests. */
  now?: () => number;
}

function isAnthropicHeader(name: string): boolean {
  return name.startsWith('anthropic-ratelimit-');
}

function pickHeaders(headers: Record<string, string>): Record<string, string> {
  const picked: Record<string, string> = {};
  const requestId = headers['request-id'];
  if (requestId !== undefined) picked['x-upstream-request-id'] = requestId;
  for (const [name, value] of Object.entries(headers)) if (isAnthropicHeader(name)) picked[name] = value;
  return picked;
}

/**
 * Maps an Anthropic HTTP error ({"type":"error","error":{"type","message"},"request_id"},
 * https://docs.anthropic.com/en/api/errors) to a GatewayError: the status mapping of upstreamHttpError
 * (529 overloaded_error -> 503, retryable), Anthropic's error type as the code, rate-limit headers kept.
 */
export function anthropicHttpError(provider: string, status: number, headers: Record<string, string>, text: string): GatewayError {
  const base = upstreamHttpError(provider, status, headers, text);
  let anthropicType: string | undefined;
  try {
    const parsed = JSON.parse(text) as Json;
    const error = parsed.error as Json | undefined;
    if (typeof error?.type === 'string') anthropicType = error.type;
  } catch {
    // not JSON: keep the generic mapping
  }
  const forwarded: Record<string, string> = { ...base.headers };
  for (const [name, value] of Object.entries(headers)) if (isAnthropicHeader(name)) forwarded[name] = value;
  return new GatewayError(base.message, {
    status: base.status,
    code: status === 429 ? 'rate_limit_exceeded' : (anthropicType ?? base.code),
    type: base.type,
    param: base.param,
    retryable: base.retryable,
    headers: forwarded,
    provider,
  });
}

/**
 * Sampling parameters a model refuses, read from Anthropic's 400 message: newer models take only one of
 * temperature/top_p ("temperature and top_p cannot both be specified for this model. Please use only one.")
 * or none ("`temperature` is deprecated for this model."). Returns the parameter to drop and retry without.
 */
export function refusedSamplingParam(message: string, body: Json): string | undefined {
  if (/temperature.{0,3} and .{0,3}top_p.{0,3} cannot both be specified/i.test(message) && body.top_p !== undefined) return 'top_p';
  const deprecated = /`?(temperature|top_p|top_k)`? (?:is deprecated|is not supported)/i.exec(message);
  const name = deprecated?.[1]?.toLowerCase();
  return name !== undefined && body[name] !== undefined ? name : undefined;
}

/**
 * The thinking style a model asks for instead of the one sent: Opus 4.7 and later answer 400
 * "\"thinking.type.enabled\" is not supported for this model. Use \"thinking.type.adaptive\" and
 * \"output_config.effort\" to control thinking behavior."; models before 4.6 refuse adaptive thinking.
 */
export function refusedThinkingStyle(message: string): ThinkingStyle | undefined {
  if (/thinking\.type\.enabled\W{0,3} is not supported/i.test(message)) return 'adaptive';
  if (/adaptive thinking is not supported|thinking\.type\.adaptive\W{0,3} is not supported/i.test(message)) return 'enabled';
  return undefined;
}

export function createAnthropicProvider(options: AnthropicProviderOptions): Provider {
  const origin = options.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const baseHeaders: Record<string, string> = {
    'content-type': 'application/json',
    'anthropic-version': anthropicVersion,
    ...options.headers,
  };
  if (options.apiKey) baseHeaders['x-api-key'] = options.apiKey;
  const provider = options.name;

  /** The upstream headers of a call: the client's feature headers (anthropic-beta) joined to configured ones. */
  function callHeaders(stream: boolean, context: CallContext | undefined): Record<string, string> {
    const features = context ? anthropicFeatureHeaders(context.clientHeaders) : null;
    if (!stream && !features) return baseHeaders;
    const headers = { ...baseHeaders };
    if (stream) headers.accept = 'text/event-stream';
    for (const [name, value] of Object.entries(features ?? {})) {
      const configured = baseHeaders[name];
      headers[name] = configured === undefined ? value : `${configured},${value}`;
    }
    return headers;
  }

  async function send(
    url: string,
    init: { method: 'GET' | 'POST'; body?: string; stream?: boolean },
    signal?: AbortSignal,
    context?: CallContext,
  ): Promise<UpstreamResponse> {
    const response = await options.client.send({
      provider,
      url,
      method: init.method,
      headers: callHeaders(init.stream === true, context),
      ...(init.body === undefined ? {} : { body: init.body }),
      ...(signal ? { signal } : {}),
    });
    await rejectUnsuccessful(response, anthropicHttpError);
    return response;
  }

  async function chatCompletions(body: Json, context: CallContext): Promise<ProviderResult> {
    const translation = toAnthropicRequest(body);
    context.droppedParams.push(...translation.droppedParams);
    const stream = body.stream === true;
    const upstreamBody = { ...translation.body };
    let response: UpstreamResponse | undefined;
    // A model that refuses a sampling parameter is asked again without it (reported as dropped), and one that
    // refuses the thinking style the model id suggested is asked again in the other style: a few attempts at
    // most, so that switching models never breaks a client.
    for (let attempt = 0; response === undefined; attempt++) {
      try {
        response = await send(`${origin}/v1/messages`, { method: 'POST', body: JSON.stringify(upstreamBody), stream }, context.signal, context);
      } catch (error) {
        if (!(error instanceof GatewayError) || error.status !== 400 || attempt >= 4) throw error;
        const refused = refusedSamplingParam(error.message, upstreamBody);
        const style = translation.reasoningEffort === null ? undefined : refusedThinkingStyle(error.message);
        const current = (upstreamBody.thinking as Json | undefined)?.type;
        if (refused !== undefined) {
          delete upstreamBody[refused];
          context.droppedParams.push(refused);
        } else if (style !== undefined && translation.reasoningEffort !== null && current !== undefined && current !== style) {
          if (!applyReasoningEffort(upstreamBody, translation.reasoningEffort, style, translation.clientMaxTokens)) {
            delete upstreamBody.thinking;
            context.droppedParams.push('reasoning_effort');
          }
        } else {
          throw error;
        }
      }
    }
    const created = now();
    if (!stream) {
      const message = await readJson(response);
      if (message.type === 'error') throw anthropicStreamError(provider, message.error);
      const { body: result, usage } = fromAnthropicMessage(message, { created, jsonToolName: translation.jsonToolName });
      return { kind: 'json', status: 200, body: result, headers: pickHeaders(response.headers), usage };
    }
    const translator = createAnthropicStreamTranslator({
      created,
      includeUsage: translation.includeUsage,
      jsonToolName: translation.jsonToolName,
      provider,
    });
    const upstream = response;
    const events = readEvents(upstream)[Symbol.asyncIterator]();
    // Read the first event before answering, so that an immediate `error` event (overloaded) becomes an
    // HTTP error the client can retry instead of a broken 200 stream.
    // The first event (message_start) is translated at once, so that usage() has the input tokens
    // before the first chunk is read (the Messages API reports them in its own message_start).
    let firstChunks: StreamChunk[] = [];
    try {
      const next = await events.next();
      if (!next.done) {
        const first = parseEventObject(provider, next.value.data);
        if (first.type === 'error') throw anthropicStreamError(provider, first.error);
        firstChunks = translator.push(first);
      }
    } catch (error) {
      releaseBody(upstream, false);
      throw error;
    }
    async function* chunks(): AsyncGenerator<StreamChunk> {
      try {
        yield* firstChunks;
        while (!translator.done()) {
          const next = await events.next();
          if (next.done) break;
          yield* translator.push(parseEventObject(provider, next.value.data));
        }
        if (!translator.done()) {
          throw new GatewayError(`Upstream provider '${provider}' ended the stream before message_stop`, {
            status: 502,
            code: 'upstream_stream_truncated',
            type: 'upstream_error',
            provider,
          });
        }
      } finally {
        releaseBody(upstream, translator.done());
      }
    }
    return {
      kind: 'stream',
      status: 200,
      headers: pickHeaders(response.headers),
      chunks: chunks(),
      usage: (): Usage | null => translator.usage(),
      abort: () => releaseBody(upstream, false),
    };
  }

  async function embeddings(): Promise<JsonResult> {
    throw new GatewayError(`Provider '${provider}' (Anthropic) has no embeddings API; use a model of a provider that serves embeddings`, {
      status: 400,
      code: 'embeddings_not_supported',
      param: 'model',
      retryable: false,
      provider,
    });
  }

  async function listModels(signal?: AbortSignal): Promise<string[]> {
    if (options.models && options.models.length > 0) return [...options.models];
    const ids: string[] = [];
    let after: string | undefined;
    // https://docs.anthropic.com/en/api/models-list: pages of up to 1000, `has_more` and `last_id` as cursor.
    for (let page = 0; page < 20; page++) {
      const query = new URLSearchParams({ limit: '1000' });
      if (after) query.set('after_id', after);
      const response = await send(`${origin}/v1/models?${query.toString()}`, { method: 'GET' }, signal);
      const body = await readJson(response);
      for (const entry of Array.isArray(body.data) ? body.data : []) {
        const id = entry && typeof entry === 'object' ? (entry as Json).id : undefined;
        if (typeof id === 'string') ids.push(id);
      }
      if (body.has_more !== true || typeof body.last_id !== 'string' || body.last_id === after) break;
      after = body.last_id;
    }
    return ids;
  }

  return { name: provider, type: 'anthropic', listModels, chatCompletions, embeddings };
}
