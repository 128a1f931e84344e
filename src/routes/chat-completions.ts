/** POST /v1/chat/completions: non-streaming JSON and SSE streaming, every field passed through. */
import { createChatStreamAssembler } from '../core/chat-stream-assembler.ts';
import { invalidRequest } from '../core/errors.ts';
import { sseDone, sseFrame } from '../core/sse.ts';
import type { GatewayReply, GatewayRequest, Route } from '../http/types.ts';
import type { Json } from '../providers/types.ts';
import { clampMaxTokens } from '../usage/model-limits.ts';
import {
  callHeaders,
  finishStream,
  jsonReply,
  requireModel,
  requireObjectBody,
  type RouteDependencies,
  trackCall,
  withTracking,
} from './model-call.ts';

export function validateChatBody(body: Json): void {
  const messages = body.messages;
  if (messages === undefined) throw invalidRequest("Missing required parameter: 'messages'", 'messages', 'missing_required_parameter');
  if (!Array.isArray(messages) || messages.length === 0) {
    throw invalidRequest("'messages' must be a non-empty array", 'messages', 'invalid_value');
  }
  for (let index = 0; index < messages.length; index++) {
    const message = messages[index] as unknown;
    if (!message || typeof message !== 'object' || typeof (message as Json).role !== 'string') {
      throw invalidRequest(`messages[${index}] must be an object with a 'role'`, `messages[${index}]`, 'invalid_value');
    }
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean') {
    throw invalidRequest("'stream' must be a boolean", 'stream', 'invalid_type');
  }
}

const chatOperations = ['chat'] as const;

export function createChatCompletionsRoute(dependencies: RouteDependencies): Route {
  return {
    method: 'POST',
    path: '/v1/chat/completions',
    authenticated: true,
    handler: (request) => handleChat(dependencies, request),
  };
}

async function handleChat(dependencies: RouteDependencies, request: GatewayRequest): Promise<GatewayReply> {
  const body = requireObjectBody(request.body);
  const stream = body.stream === true;
  const tracker = trackCall(dependencies, request, 'chat.completions', body, stream);
  return withTracking(tracker, async () => {
    const model = requireModel(body);
    validateChatBody(body);
    const call = tracker.start({
      endpoint: 'chat.completions',
      requestedModel: model,
      body,
      stream,
      operations: chatOperations,
      prepare: (target, _operation, current) => {
        const prepared = { ...current, model: target.model };
        // A client written for another model family may ask for more output than this model gives.
        clampMaxTokens(prepared, target.model, call.context.droppedParams);
        return prepared;
      },
    });
    const result = await dependencies.pipeline.run(call);
    if (result.kind === 'json') {
      // The body is read only for the audit copy (a cache hit parses its stored text only when read).
      const responseBody = dependencies.bus.captureBodies ? result.body : undefined;
      tracker.finish({ status: result.status, usage: result.usage, responseBody, responseHeaders: result.headers });
      return jsonReply(result, callHeaders(tracker, result.headers));
    }
    const streamResult = result;
    const assembler = dependencies.bus.captureBodies ? createChatStreamAssembler() : null;
    let firstByteMs: number | null = null;
    async function* frames(): AsyncGenerator<string> {
      for await (const chunk of streamResult.chunks) {
        if (assembler) {
          try {
            assembler.add(chunk.json ?? (JSON.parse(chunk.data) as Json));
          } catch {
            // keep streaming; the audit copy is best effort
          }
        }
        if (chunk.usageOnly) continue;
        firstByteMs ??= performance.now() - request.startedAt;
        yield sseFrame(chunk.data);
      }
      yield sseDone;
    }
    return {
      kind: 'sse',
      status: 200,
      headers: callHeaders(tracker, result.headers),
      frames: frames(),
      onEnd: (end) =>
        finishStream(tracker, end, {
          usage: streamResult.usage(),
          responseBody: assembler?.result(),
          firstByteMs,
          responseHeaders: result.headers,
        }),
    };
  });
}
