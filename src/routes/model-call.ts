/**
 * The shared path of every model call: validate the model, resolve the provider, call it,
 * present the result, and emit exactly one CallOutcome however the call ends.
 */
import { GatewayError, invalidRequest, toGatewayError } from '../core/errors.ts';
import type { ModelRegistry, ResolvedModel } from '../core/model-registry.ts';
import type { CallOutcome, Endpoint, OutcomeBus } from '../core/outcome.ts';
import type { Usage } from '../core/usage.ts';
import type { GatewayReply, GatewayRequest, JsonReply } from '../http/types.ts';
import type { CallContext, Json, JsonResult, StreamChunk } from '../providers/types.ts';

export interface RouteDependencies {
  registry: ModelRegistry;
  bus: OutcomeBus;
}

export function requireObjectBody(body: unknown): Json {
  if (body === undefined || body === null) throw invalidRequest('Request body is required (JSON object)', null, 'missing_body');
  if (typeof body !== 'object' || Array.isArray(body)) throw invalidRequest('Request body must be a JSON object', null, 'invalid_body');
  return body as Json;
}

export function requireModel(body: Json): string {
  const model = body.model;
  if (model === undefined || model === null || model === '') {
    throw invalidRequest("Missing required parameter: 'model'", 'model', 'missing_required_parameter');
  }
  if (typeof model !== 'string') throw invalidRequest("'model' must be a string", 'model', 'invalid_type');
  return model;
}

export async function resolveModel(registry: ModelRegistry, model: string): Promise<ResolvedModel> {
  const resolved = await registry.resolve(model);
  if (!resolved) {
    throw new GatewayError(`The model '${model}' does not exist or no configured provider serves it`, {
      status: 404,
      code: 'model_not_found',
      param: 'model',
      retryable: false,
    });
  }
  return resolved;
}

/** What a call looks like while it runs; `finish` emits its outcome once. */
export interface CallTracker {
  context: CallContext;
  resolved: ResolvedModel | null;
  setResolved(resolved: ResolvedModel): void;
  finish(result: { status: number; usage: Usage | null; error?: unknown; responseBody?: unknown; firstByteMs?: number | null; responseHeaders?: Record<string, string> }): void;
}

function flatHeaders(headers: GatewayRequest['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

export function trackCall(
  dependencies: RouteDependencies,
  request: GatewayRequest,
  endpoint: Endpoint,
  body: Json | null,
  stream: boolean,
): CallTracker {
  const startedAt = new Date();
  let finished = false;
  const tracker: CallTracker = {
    context: { requestId: request.requestId, signal: request.signal, droppedParams: [] },
    resolved: null,
    setResolved(resolved) {
      tracker.resolved = resolved;
    },
    finish(result) {
      if (finished) return;
      finished = true;
      const gatewayError = result.error === undefined || result.error === null ? null : toGatewayError(result.error);
      const requested = body && typeof body.model === 'string' ? body.model : null;
      const outcome: CallOutcome = {
        requestId: request.requestId,
        endpoint,
        provider: tracker.resolved?.provider.name ?? null,
        providerType: tracker.resolved?.provider.type ?? null,
        requestedModel: requested,
        model: tracker.resolved?.model ?? null,
        stream,
        status: gatewayError ? gatewayError.status : result.status,
        usage: result.usage,
        startedAt,
        latencyMs: performance.now() - request.startedAt,
        firstByteMs: result.firstByteMs ?? null,
        error: gatewayError ? { code: gatewayError.code, message: gatewayError.message } : null,
        keyId: request.keyId,
        cacheStatus: 'none',
        droppedParams: tracker.context.droppedParams,
        method: request.method,
        path: request.path,
      };
      if (dependencies.bus.captureHeaders) {
        outcome.requestHeaders = flatHeaders(request.headers);
        if (result.responseHeaders) outcome.responseHeaders = result.responseHeaders;
      }
      if (dependencies.bus.captureBodies) {
        outcome.requestBody = body;
        outcome.responseBody = gatewayError ? gatewayError.toBody() : result.responseBody;
      }
      dependencies.bus.emit(outcome);
    },
  };
  return tracker;
}

/** Headers the gateway adds to model-call responses. */
export function callHeaders(tracker: CallTracker, upstream: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = { ...upstream };
  if (tracker.resolved) headers['x-modelgate-provider'] = tracker.resolved.provider.name;
  if (tracker.context.droppedParams.length > 0) {
    headers['x-modelgate-dropped-params'] = [...new Set(tracker.context.droppedParams)].join(',');
  }
  return headers;
}

/** Runs `handle`, emitting a failure outcome if it throws before a reply exists. */
export async function withTracking(tracker: CallTracker, handle: () => Promise<GatewayReply>): Promise<GatewayReply> {
  try {
    return await handle();
  } catch (error) {
    tracker.finish({ status: toGatewayError(error).status, usage: null, error });
    throw error;
  }
}

/** The chunks of a chat stream as objects, for translators (a chunk that is not JSON is skipped). */
export async function* parsedChunks(chunks: AsyncIterable<StreamChunk>): AsyncGenerator<Json> {
  for await (const chunk of chunks) {
    let parsed: Json;
    try {
      parsed = JSON.parse(chunk.data) as Json;
    } catch {
      continue;
    }
    yield parsed;
  }
}

/** A provider's JSON result as the reply, relaying the upstream's own text when the adapter left it unchanged. */
export function jsonReply(result: JsonResult, headers: Record<string, string>): JsonReply {
  const reply: JsonReply = { kind: 'json', status: result.status, headers, body: result.body };
  if (result.rawBody !== undefined) reply.rawBody = result.rawBody;
  return reply;
}
