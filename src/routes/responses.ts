/**
 * The OpenAI Responses API for every provider:
 * - POST /v1/responses: native for providers with `provider.responses` (OpenAI, xAI), translated
 *   through chat completions for the rest (src/responses/), JSON or SSE.
 * - GET /v1/responses/{id}, DELETE /v1/responses/{id}, GET /v1/responses/{id}/input_items: from the
 *   gateway's own store (https://platform.openai.com/docs/api-reference/responses/get,
 *   .../responses/delete, .../responses/input-items).
 * Every response created here is stored unless the request says `store: false`.
 */
import type { Logger } from 'pino';
import { GatewayError, invalidRequest } from '../core/errors.ts';
import { sseFrame } from '../core/sse.ts';
import type { GatewayReply, GatewayRequest, Route } from '../http/types.ts';
import type { ResolvedModel } from '../core/model-registry.ts';
import { adaptChatForProvider } from '../providers/fit-chat-request.ts';
import type { Json, ProviderResult } from '../providers/types.ts';
import { createResponsesStreamTranslator, type ResponsesEvent } from '../responses/chat-stream-to-responses-events.ts';
import { chatCompletionToResponse, type ResponseShell } from '../responses/chat-to-response.ts';
import { createItemId } from '../responses/ids.ts';
import type { ResponseStore, StoredResponse } from '../responses/response-store.ts';
import { normalizeInputItems, responsesToChatRequest } from '../responses/responses-to-chat.ts';
import {
  type CallTracker,
  callHeaders,
  finishStream,
  type RouteDependencies,
  requireModel,
  requireObjectBody,
  parsedChunks,
  trackCall,
  withTracking,
} from './model-call.ts';

export interface ResponsesRouteDependencies extends RouteDependencies {
  /** The store in use (looked up per request: storage starts with the gateway). */
  store(): ResponseStore;
  logger: Logger;
}

/** How many earlier responses a `previous_response_id` chain may reach back. */
const maxChainLength = 200;

export function createResponsesRoutes(dependencies: ResponsesRouteDependencies): Route[] {
  return [
    { method: 'POST', path: '/v1/responses', authenticated: true, handler: (request) => handleCreate(dependencies, request) },
    { method: 'GET', path: '/v1/responses/:id', authenticated: true, handler: (request) => handleGet(dependencies, request) },
    { method: 'DELETE', path: '/v1/responses/:id', authenticated: true, handler: (request) => handleDelete(dependencies, request) },
    {
      method: 'GET',
      path: '/v1/responses/:id/input_items',
      authenticated: true,
      handler: (request) => handleInputItems(dependencies, request),
    },
  ];
}

function notFound(id: string): GatewayError {
  return new GatewayError(`Response with id '${id}' not found.`, {
    status: 404,
    code: 'response_not_found',
    param: 'id',
    retryable: false,
  });
}

async function requireStored(dependencies: ResponsesRouteDependencies, id: string | undefined): Promise<StoredResponse> {
  if (!id) throw notFound('');
  const stored = await dependencies.store().get(id);
  if (!stored) throw notFound(id);
  return stored;
}

async function handleGet(dependencies: ResponsesRouteDependencies, request: GatewayRequest): Promise<GatewayReply> {
  const stored = await requireStored(dependencies, request.params.id);
  return { kind: 'json', status: 200, body: stored.response };
}

async function handleDelete(dependencies: ResponsesRouteDependencies, request: GatewayRequest): Promise<GatewayReply> {
  const id = request.params.id ?? '';
  const deleted = await dependencies.store().delete(id);
  if (!deleted) throw notFound(id);
  return { kind: 'json', status: 200, body: { id, object: 'response', deleted: true } };
}

async function handleInputItems(dependencies: ResponsesRouteDependencies, request: GatewayRequest): Promise<GatewayReply> {
  const stored = await requireStored(dependencies, request.params.id);
  const query = request.query;
  const limit = query.limit === undefined ? 20 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    throw invalidRequest("'limit' must be an integer between 1 and 100", 'limit', 'invalid_value');
  const order = query.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw invalidRequest("'order' must be 'asc' or 'desc'", 'order', 'invalid_value');
  let items = order === 'desc' ? [...stored.inputItems].reverse() : [...stored.inputItems];
  if (query.after) {
    const position = items.findIndex((item) => item.id === query.after);
    items = position === -1 ? [] : items.slice(position + 1);
  }
  if (query.before) {
    const position = items.findIndex((item) => item.id === query.before);
    items = position === -1 ? [] : items.slice(0, position);
  }
  const page = items.slice(0, limit);
  return {
    kind: 'json',
    status: 200,
    body: {
      object: 'list',
      data: page,
      first_id: page[0]?.id ?? null,
      last_id: page.at(-1)?.id ?? null,
      has_more: items.length > page.length,
    },
  };
}

/** The conversation before `previous`: each earlier response's input items, then its output. */
async function conversationHistory(store: ResponseStore, previous: StoredResponse): Promise<Json[]> {
  const chain: StoredResponse[] = [previous];
  let current = previous;
  while (current.previousResponseId && chain.length < maxChainLength) {
    const earlier = await store.get(current.previousResponseId);
    if (!earlier) break;
    chain.unshift(earlier);
    current = earlier;
  }
  const items: Json[] = [];
  for (const stored of chain) {
    items.push(...stored.inputItems);
    if (Array.isArray(stored.response.output)) items.push(...(stored.response.output as Json[]));
  }
  return items;
}

/** Items sent to a native upstream that has never seen them: without gateway-made ids and statuses. */
function forUpstream(items: Json[]): Json[] {
  return items
    .filter((item) => item.type !== 'reasoning')
    .map((item) => {
      const copy: Json = { ...item };
      delete copy.id;
      delete copy.status;
      return copy;
    });
}

async function handleCreate(dependencies: ResponsesRouteDependencies, request: GatewayRequest): Promise<GatewayReply> {
  const body = requireObjectBody(request.body);
  const stream = body.stream === true;
  const tracker = trackCall(dependencies, request, 'responses', body, stream);
  return withTracking(tracker, async () => {
    const model = requireModel(body);
    if (body.stream !== undefined && typeof body.stream !== 'boolean')
      throw invalidRequest("'stream' must be a boolean", 'stream', 'invalid_type');
    if (body.input === undefined) throw invalidRequest("Missing required parameter: 'input'", 'input', 'missing_required_parameter');
    const previousId = body.previous_response_id;
    if (previousId !== undefined && previousId !== null && typeof previousId !== 'string') {
      throw invalidRequest("'previous_response_id' must be a string", 'previous_response_id', 'invalid_type');
    }
    // Stored with the response: the items as sent upstream (after guardrails rewrote them, if they did).
    let inputItems = normalizeInputItems(body.input);
    let itemsSource = body;
    const itemsOf = (current: Json): Json[] => {
      if (current !== itemsSource) {
        itemsSource = current;
        inputItems = normalizeInputItems(current.input);
      }
      return inputItems;
    };
    const store = dependencies.store();
    const previous = typeof previousId === 'string' ? await store.get(previousId) : null;
    const call = tracker.start({
      endpoint: 'responses',
      requestedModel: model,
      body,
      stream,
      operations: responsesOperations,
      prepare: (target, operation, current) =>
        operation === 'responses'
          ? nativeRequest(store, current, target, itemsOf(current), previous)
          : translatedRequest(store, current, target, itemsOf(current), previous, call.context.droppedParams),
    });
    const result = await dependencies.pipeline.run(call);
    const served = call.trace.served as NonNullable<typeof call.trace.served>;
    const native = served.operation === 'responses';
    const save = async (response: Json): Promise<void> => {
      if (body.store === false || typeof response.id !== 'string') return;
      try {
        await store.save({
          id: response.id,
          createdAt: Date.now(),
          provider: served.target.provider.name,
          model: served.target.model,
          native,
          previousResponseId: typeof previousId === 'string' ? previousId : null,
          response,
          inputItems,
        });
      } catch (error) {
        dependencies.logger.warn({ err: error, responseId: response.id }, 'could not store response');
      }
    };
    if (native) return presentNative(request, tracker, result, save);
    return presentTranslated(request, tracker, body, model, result, save);
  });
}

const responsesOperations = ['responses', 'chat'] as const;

/** The Responses fields behind chat parameters, for dropped-parameter reports. */
const responsesSources = { reasoning_effort: 'reasoning.effort', max_tokens: 'max_output_tokens' };

/** The body for a native Responses upstream. */
async function nativeRequest(
  store: ResponseStore,
  body: Json,
  target: ResolvedModel,
  inputItems: Json[],
  previous: StoredResponse | null,
): Promise<Json> {
  const upstreamBody: Json = { ...body, model: target.model };
  // A previous response the upstream made itself is known upstream: pass the id through. One this
  // gateway made through another provider is expanded from storage into the input.
  if (previous && !(previous.native && previous.provider === target.provider.name)) {
    const history = await conversationHistory(store, previous);
    upstreamBody.input = forUpstream([...history, ...inputItems]);
    delete upstreamBody.previous_response_id;
  }
  return upstreamBody;
}

/** The chat completions body a Responses request becomes for providers without a native endpoint. */
async function translatedRequest(
  store: ResponseStore,
  body: Json,
  target: ResolvedModel,
  inputItems: Json[],
  previous: StoredResponse | null,
  dropped: string[],
): Promise<Json> {
  const previousId = body.previous_response_id;
  if (typeof previousId === 'string' && !previous) {
    throw new GatewayError(`Previous response with id '${previousId}' not found.`, {
      status: 400,
      code: 'previous_response_not_found',
      param: 'previous_response_id',
      retryable: false,
    });
  }
  const history = previous ? await conversationHistory(store, previous) : [];
  const chatRequest = responsesToChatRequest({ ...body, model: target.model }, inputItems, history, dropped);
  adaptChatForProvider(chatRequest, { providerType: target.provider.type, model: target.model }, dropped, responsesSources);
  if (target.provider.type !== 'anthropic') {
    // Signed Anthropic thinking only means something to the Anthropic provider.
    for (const message of chatRequest.messages as Json[]) delete message.thinking_blocks;
  }
  return chatRequest;
}

function presentTranslated(
  request: GatewayRequest,
  tracker: CallTracker,
  body: Json,
  model: string,
  result: ProviderResult,
  save: (response: Json) => Promise<void>,
): Promise<GatewayReply> | GatewayReply {
  const shell: ResponseShell = { id: createItemId('resp'), createdAt: Math.floor(Date.now() / 1000), model, request: body };
  if (result.kind === 'json') {
    const response = chatCompletionToResponse(result.body, shell, result.usage);
    return save(response).then(() => {
      tracker.finish({ status: 200, usage: result.usage, responseBody: response, responseHeaders: result.headers });
      return { kind: 'json', status: 200, headers: callHeaders(tracker, result.headers), body: response };
    });
  }
  const streamResult = result;
  const translator = createResponsesStreamTranslator(shell);
  let finalResponse: Json | undefined;
  let firstByteMs: number | null = null;
  const frame = (event: ResponsesEvent) => sseFrame(JSON.stringify(event.data), event.event);
  async function* frames(): AsyncGenerator<string> {
    firstByteMs = performance.now() - request.startedAt;
    for (const event of translator.start()) yield frame(event);
    for await (const parsed of parsedChunks(streamResult.chunks)) {
      for (const event of translator.add(parsed)) yield frame(event);
    }
    const { events, response } = translator.finish(streamResult.usage());
    finalResponse = response;
    await save(response);
    for (const event of events) yield frame(event);
  }
  return {
    kind: 'sse',
    status: 200,
    headers: callHeaders(tracker, result.headers),
    frames: frames(),
    errorFrames: (errorBody) => {
      const error = ((errorBody as Json).error ?? {}) as Json;
      const events = translator.fail({
        message: String(error.message ?? 'stream failed'),
        code: typeof error.code === 'string' ? error.code : null,
        param: typeof error.param === 'string' ? error.param : null,
      });
      return events.map(frame).join('');
    },
    onEnd: (end) =>
      finishStream(tracker, end, {
        usage: streamResult.usage(),
        responseBody: finalResponse,
        firstByteMs,
        responseHeaders: result.headers,
      }),
  };
}

async function presentNative(
  request: GatewayRequest,
  tracker: CallTracker,
  result: ProviderResult,
  save: (response: Json) => Promise<void>,
): Promise<GatewayReply> {
  if (result.kind === 'json') {
    await save(result.body);
    tracker.finish({ status: result.status, usage: result.usage, responseBody: result.body, responseHeaders: result.headers });
    return { kind: 'json', status: result.status, headers: callHeaders(tracker, result.headers), body: result.body };
  }
  const streamResult = result;
  let finalResponse: Json | undefined;
  let firstByteMs: number | null = null;
  let nextSequence = 0;
  let failure: GatewayError | undefined;
  const target = tracker.servedBy()?.provider ?? 'upstream';
  async function* frames(): AsyncGenerator<string> {
    // The last event (response.completed, .incomplete, .failed) is held until the upstream stream ends, so
    // that it leaves with the end of the response, after the call's records (src/core/record-barrier.ts).
    let held: string | null = null;
    try {
      for await (const chunk of streamResult.chunks) {
        if (held !== null) {
          yield held;
          held = null;
        }
        firstByteMs ??= performance.now() - request.startedAt;
        const sequence = /"sequence_number":\s*(\d+)/.exec(chunk.data);
        if (sequence) nextSequence = Number(sequence[1]) + 1;
        const type = chunk.event ?? '';
        if (type === 'error') failure = nativeStreamFailure(chunk.data, target);
        if (type === 'response.completed' || type === 'response.incomplete' || type === 'response.failed') {
          try {
            const parsed = chunk.json ?? (JSON.parse(chunk.data) as Json);
            const response = parsed.response as Json | undefined;
            if (type === 'response.failed') failure = nativeStreamFailure(JSON.stringify(response?.error ?? {}), target);
            if (response) {
              finalResponse = response;
              await save(response);
            }
          } catch {
            // not JSON: forward as is
          }
          held = sseFrame(chunk.data, chunk.event);
          continue;
        }
        yield sseFrame(chunk.data, chunk.event);
      }
    } catch (error) {
      // A failure after the last event: the client has it, then the error.
      if (held !== null) yield held;
      throw error;
    }
    if (held !== null) yield held;
  }
  return {
    kind: 'sse',
    status: 200,
    headers: callHeaders(tracker, result.headers),
    frames: frames(),
    errorFrames: (errorBody) => {
      const error = ((errorBody as Json).error ?? {}) as Json;
      return sseFrame(
        JSON.stringify({
          type: 'error',
          sequence_number: nextSequence,
          code: error.code ?? null,
          message: error.message ?? 'stream failed',
          param: error.param ?? null,
        }),
        'error',
      );
    },
    onEnd: (end) =>
      finishStream(tracker, end, {
        usage: streamResult.usage(),
        responseBody: finalResponse,
        firstByteMs,
        responseHeaders: result.headers,
        failure,
      }),
  };
}

/** A relayed `error` event or `response.failed` of a native Responses stream, as the call's recorded error. */
function nativeStreamFailure(data: string, provider: string): GatewayError {
  let error: Json = {};
  try {
    const parsed = JSON.parse(data) as Json;
    error = (parsed && typeof parsed === 'object' ? ((parsed.error as Json | undefined) ?? parsed) : {}) as Json;
  } catch {
    // not JSON: a generic failure
  }
  const message = typeof error.message === 'string' ? error.message : 'the response failed';
  return new GatewayError(`${provider}: ${message}`, {
    status: 502,
    code: typeof error.code === 'string' ? error.code : 'response_failed',
    type: 'upstream_error',
    retryable: false,
    provider,
  });
}
