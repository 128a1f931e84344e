/**
 * The Anthropic Messages API, inbound, for every provider (https://docs.anthropic.com/en/api/messages):
 * POST /v1/messages (JSON or SSE) is translated to chat completions (src/messages/), so Anthropic
 * clients and coding agents can use any model through the gateway. Errors are Anthropic-shaped.
 * POST /v1/messages/count_tokens answers with an estimate (about four characters per token).
 */
import { invalidRequest, toGatewayError } from '../core/errors.ts';
import { sseFrame } from '../core/sse.ts';
import type { GatewayReply, GatewayRequest, Route } from '../http/types.ts';
import { renderAnthropicError } from '../http/error-shape.ts';
import { anthropicErrorBody, anthropicStreamErrorBody } from '../messages/anthropic-errors.ts';
import { createMessagesStreamTranslator, type MessagesEvent } from '../messages/chat-stream-to-messages-events.ts';
import { chatCompletionToMessage } from '../messages/chat-to-message.ts';
import { messagesToChatRequest } from '../messages/messages-to-chat.ts';
import { anthropicFeatureHeaders } from '../providers/anthropic/anthropic-feature-headers.ts';
import { adaptChatForProvider } from '../providers/fit-chat-request.ts';
import type { Json } from '../providers/types.ts';
import {
  callHeaders,
  finishStream,
  type RouteDependencies,
  requireModel,
  requireObjectBody,
  parsedChunks,
  trackCall,
  withTracking,
} from './model-call.ts';

export function createMessagesRoutes(dependencies: RouteDependencies): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/messages',
      authenticated: true,
      errorBody: renderAnthropicError,
      handler: (request) => anthropicErrors(request, () => handleMessages(dependencies, request)),
    },
    {
      method: 'POST',
      path: '/v1/messages/count_tokens',
      authenticated: true,
      errorBody: renderAnthropicError,
      handler: (request) => anthropicErrors(request, async () => countTokens(request)),
    },
  ];
}

/**
 * Renders errors in Anthropic's shape and adds Anthropic's `request-id` header (the SDK exposes it
 * as `_request_id`). Internal errors are rethrown so the HTTP adapter logs them.
 */
async function anthropicErrors(request: GatewayRequest, handle: () => Promise<GatewayReply>): Promise<GatewayReply> {
  try {
    const reply = await handle();
    reply.headers = { ...reply.headers, 'request-id': request.requestId };
    return reply;
  } catch (error) {
    const gatewayError = toGatewayError(error);
    if (gatewayError.code === 'internal_error') throw error;
    return {
      kind: 'json',
      status: gatewayError.status,
      headers: { ...gatewayError.headers, 'request-id': request.requestId },
      body: anthropicErrorBody(gatewayError),
    };
  }
}

const messagesOperations = ['chat'] as const;

/** The Messages fields behind chat parameters, for dropped-parameter reports. */
const messagesSources = { reasoning_effort: 'thinking' };

function frame(event: MessagesEvent): string {
  return sseFrame(JSON.stringify(event.data), event.event);
}

async function handleMessages(dependencies: RouteDependencies, request: GatewayRequest): Promise<GatewayReply> {
  const body = requireObjectBody(request.body);
  const stream = body.stream === true;
  const tracker = trackCall(dependencies, request, 'messages', body, stream);
  return withTracking(tracker, async () => {
    const model = requireModel(body);
    if (body.stream !== undefined && typeof body.stream !== 'boolean')
      throw invalidRequest('stream: must be a boolean', 'stream', 'invalid_type');
    const call = tracker.start({
      endpoint: 'messages',
      requestedModel: model,
      body,
      stream,
      operations: messagesOperations,
      prepare: (target, _operation, current) => {
        const dropped = call.context.droppedParams;
        const anthropicNative = target.provider.type === 'anthropic';
        // anthropic-beta and the like select Anthropic features: the Anthropic provider forwards them.
        if (!anthropicNative) for (const name in anthropicFeatureHeaders(request.headers)) dropped.push(name);
        const chatRequest = messagesToChatRequest(current, dropped, { anthropicNative });
        adaptChatForProvider(chatRequest, { providerType: target.provider.type, model: target.model }, dropped, messagesSources);
        return { ...chatRequest, model: target.model };
      },
    });
    const result = await dependencies.pipeline.run(call);
    if (result.kind === 'json') {
      const message = chatCompletionToMessage(result.body, model, result.usage);
      tracker.finish({ status: 200, usage: result.usage, responseBody: message, responseHeaders: result.headers });
      return { kind: 'json', status: 200, headers: callHeaders(tracker, result.headers), body: message };
    }
    const streamResult = result;
    const translator = createMessagesStreamTranslator(model);
    let firstByteMs: number | null = null;
    let finished = false;
    async function* frames(): AsyncGenerator<string> {
      firstByteMs = performance.now() - request.startedAt;
      for (const event of translator.start(streamResult.usage())) yield frame(event);
      for await (const parsed of parsedChunks(streamResult.chunks)) {
        for (const event of translator.add(parsed)) yield frame(event);
      }
      finished = true;
      for (const event of translator.finish(streamResult.usage())) yield frame(event);
    }
    return {
      kind: 'sse',
      status: 200,
      headers: callHeaders(tracker, result.headers),
      frames: frames(),
      errorFrames: (errorBody) => sseFrame(JSON.stringify(anthropicStreamErrorBody(errorBody)), 'error'),
      onEnd: (end) =>
        finishStream(tracker, end, {
          usage: streamResult.usage(),
          responseBody: finished ? translator.message() : undefined,
          firstByteMs,
          responseHeaders: result.headers,
        }),
    };
  });
}

const ignoredKeys = new Set(['type', 'role', 'cache_control', 'id', 'tool_use_id']);

function textLength(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (Array.isArray(value)) return value.reduce<number>((total, item) => total + textLength(item), 0);
  if (value !== null && typeof value === 'object') {
    const object = value as Json;
    // Images and documents are counted at a flat rate rather than by their base64 size.
    if (object.type === 'image' || object.type === 'document') return 1600 * 4;
    return Object.entries(object).reduce<number>((total, [key, item]) => total + (ignoredKeys.has(key) ? 0 : textLength(item)), 0);
  }
  return 0;
}

/** An estimate: about four characters per token over system, messages and tools. */
async function countTokens(request: GatewayRequest): Promise<GatewayReply> {
  const body = requireObjectBody(request.body);
  requireModel(body);
  if (!Array.isArray(body.messages)) throw invalidRequest('messages: Field required', 'messages', 'missing_required_parameter');
  const characters = textLength(body.system) + textLength(body.messages) + textLength(body.tools);
  return {
    kind: 'json',
    status: 200,
    headers: { 'x-modelgate-estimate': 'true' },
    body: { input_tokens: Math.max(1, Math.ceil(characters / 4)) },
  };
}
