/**
 * `:generateContent` and `:streamGenerateContent` inbound: the Gemini request becomes one canonical chat call
 * through the pipeline, and the answer goes back as GenerateContentResponse(s). Streams are SSE with `?alt=sse`
 * (one response per `data:` event, as Google's API sends them) and, without it, one JSON array written element by
 * element (https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent).
 */
import { toGatewayError } from '../core/errors.ts';
import { sseFrame } from '../core/sse.ts';
import type { Usage } from '../core/usage.ts';
import type { GatewayReply, GatewayRequest } from '../http/types.ts';
import { adaptChatForProvider } from '../providers/fit-chat-request.ts';
import type { Json, StreamResult } from '../providers/types.ts';
import {
  type CallTracker,
  callHeaders,
  finishStream,
  parsedChunks,
  type RouteDependencies,
  requireObjectBody,
  trackCall,
  withTracking,
} from '../routes/model-call.ts';
import { chatCompletionToGemini, createGeminiResponseStream, type GeminiResponseStream } from './chat-to-gemini-response.ts';
import { geminiRequestToChat } from './gemini-request-to-chat.ts';
import { googleErrorBody, googleStreamErrorBody } from './google-errors.ts';

export type GenerateMode = 'json' | 'sse' | 'array';

const chatOperations = ['chat'] as const;

/** The Gemini field behind a chat parameter, for X-Modelgate-Dropped-Params. */
const geminiSources: Record<string, string> = { reasoning_effort: 'generationConfig.thinkingConfig', max_tokens: 'generationConfig.maxOutputTokens' };

/** The Gemini responses of a canonical chat stream, the last one carrying finishReason and usageMetadata. */
async function* geminiResponses(result: StreamResult, translator: GeminiResponseStream): AsyncGenerator<Json> {
  for await (const chunk of parsedChunks(result.chunks)) yield* translator.add(chunk);
  yield translator.finish(result.usage());
}

interface StreamState {
  firstByteMs: number | null;
  finished: boolean;
}

function streamReply(
  tracker: CallTracker,
  request: GatewayRequest,
  result: StreamResult,
  model: string,
  mode: 'sse' | 'array',
): GatewayReply {
  const translator = createGeminiResponseStream(model);
  const state: StreamState = { firstByteMs: null, finished: false };
  const headers = callHeaders(tracker, result.headers);
  const end = (usage: Usage | null) => ({
    usage,
    responseBody: state.finished ? translator.assembled(usage) : undefined,
    firstByteMs: state.firstByteMs,
    responseHeaders: result.headers,
  });
  if (mode === 'sse') {
    async function* frames(): AsyncGenerator<string> {
      for await (const response of geminiResponses(result, translator)) {
        state.firstByteMs ??= performance.now() - request.startedAt;
        yield sseFrame(JSON.stringify(response));
      }
      state.finished = true;
    }
    return {
      kind: 'sse',
      status: 200,
      headers,
      frames: frames(),
      errorFrames: (body) => sseFrame(JSON.stringify(googleStreamErrorBody(body))),
      onEnd: (streamEnd) => finishStream(tracker, streamEnd, end(result.usage())),
    };
  }
  // The JSON array: `[` + elements joined by `,\r\n` + `]`; a failure after the start becomes a last element
  // holding a Google error, so the array stays valid JSON.
  const encoder = new TextEncoder();
  let failure: unknown = null;
  async function* body(): AsyncGenerator<Uint8Array> {
    let separator = '[';
    try {
      for await (const response of geminiResponses(result, translator)) {
        state.firstByteMs ??= performance.now() - request.startedAt;
        yield encoder.encode(`${separator}${JSON.stringify(response)}`);
        separator = ',\r\n';
      }
      state.finished = true;
    } catch (error) {
      if (request.signal.aborted) throw error;
      failure = error;
      yield encoder.encode(`${separator}${JSON.stringify(googleErrorBody(toGatewayError(error)))}`);
    }
    yield encoder.encode(']');
  }
  return {
    kind: 'stream',
    status: 200,
    headers: { ...headers, 'content-type': 'application/json; charset=utf-8' },
    body: body(),
    onEnd: (streamEnd) => finishStream(tracker, { ...streamEnd, error: streamEnd.error ?? failure }, end(result.usage())),
  };
}

export async function handleGenerate(dependencies: RouteDependencies, request: GatewayRequest, model: string, mode: GenerateMode): Promise<GatewayReply> {
  const body = requireObjectBody(request.body);
  const stream = mode !== 'json';
  const tracker = trackCall(dependencies, request, 'gemini', { ...body, model }, stream);
  return withTracking(tracker, async () => {
    // Translated once, before any stage: the pipeline carries the canonical chat body (guardrails, cache
    // and routing read it as they read /v1/chat/completions), and a malformed request fails for every target.
    const dropped: string[] = [];
    const chat = geminiRequestToChat(body, model, stream, dropped);
    const call = tracker.start({
      endpoint: 'gemini',
      requestedModel: model,
      body: chat,
      stream,
      operations: chatOperations,
      prepare: (target, _operation, current) => {
        const upstream: Json = { ...current, model: target.model };
        adaptChatForProvider(upstream, { providerType: target.provider.type, model: target.model }, call.context.droppedParams, geminiSources);
        return upstream;
      },
    });
    call.context.droppedParams.push(...dropped);
    const result = await dependencies.pipeline.run(call);
    if (result.kind === 'stream') return streamReply(tracker, request, result, model, mode === 'json' ? 'sse' : mode);
    const answer = chatCompletionToGemini(result.body, model, result.usage);
    tracker.finish({ status: 200, usage: result.usage, responseBody: answer, responseHeaders: result.headers });
    return { kind: 'json', status: 200, headers: callHeaders(tracker, result.headers), body: answer };
  });
}
