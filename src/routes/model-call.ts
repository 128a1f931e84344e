/**
 * The shared path of every model call: validate the model, hand the call to the pipeline, present
 * the result, and emit exactly one CallOutcome however the call ends.
 */
import { GatewayError, invalidRequest, toGatewayError } from '../core/errors.ts';
import type { ModelRegistry } from '../core/model-registry.ts';
import type { CallOutcome, Endpoint, OutcomeBus } from '../core/outcome.ts';
import type { Usage } from '../core/usage.ts';
import type { GatewayReply, GatewayRequest, JsonReply, StreamEnd } from '../http/types.ts';
import { workflowOfOutcome } from '../pipeline/call-policy.ts';
import type { ModelCall, ModelCallInit } from '../pipeline/model-call.ts';
import { createModelCall } from '../pipeline/model-call.ts';
import type { Pipeline } from '../pipeline/pipeline.ts';
import type { Json, JsonResult, StreamChunk } from '../providers/types.ts';

export interface RouteDependencies {
  registry: ModelRegistry;
  bus: OutcomeBus;
  pipeline: Pipeline;
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

/** What a call looks like while it runs; `finish` emits its outcome once. */
export interface CallTracker {
  /** The pipeline call, once the inbound API has described it. */
  call: ModelCall | null;
  /** Describes the call (after validation) and links its trace to the outcome record. */
  start(init: ModelCallInit): ModelCall;
  /** Provider instance and upstream model that served the call, or that the last attempt went to. */
  servedBy(): { provider: string; providerType: string; model: string } | null;
  finish(result: {
    status: number;
    usage: Usage | null;
    error?: unknown;
    responseBody?: unknown;
    firstByteMs?: number | null;
    responseHeaders?: Record<string, string>;
  }): void;
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
    call: null,
    start(init) {
      tracker.call = createModelCall(request, init);
      return tracker.call;
    },
    servedBy() {
      const trace = tracker.call?.trace;
      if (!trace) return null;
      if (trace.served) {
        const { provider, model } = trace.served.target;
        return { provider: provider.name, providerType: provider.type, model };
      }
      const last = trace.attempts.at(-1);
      if (!last) return null;
      const provider = dependencies.registry.providers.find((candidate) => candidate.name === last.provider);
      return { provider: last.provider, providerType: provider?.type ?? '', model: last.model };
    },
    finish(result) {
      if (finished) return;
      finished = true;
      const gatewayError = result.error === undefined || result.error === null ? null : toGatewayError(result.error);
      const requested = body && typeof body.model === 'string' ? body.model : null;
      const served = tracker.servedBy();
      const outcome: CallOutcome = {
        requestId: request.requestId,
        endpoint,
        provider: served?.provider ?? null,
        providerType: served?.providerType || null,
        requestedModel: requested,
        model: served?.model ?? null,
        stream,
        status: gatewayError ? gatewayError.status : result.status,
        usage: result.usage,
        startedAt,
        latencyMs: performance.now() - request.startedAt,
        firstByteMs: result.firstByteMs ?? null,
        error: gatewayError ? { code: gatewayError.code, message: gatewayError.message } : null,
        keyId: request.keyId,
        cacheStatus: tracker.call?.trace.cache?.status ?? 'none',
        droppedParams: tracker.call?.context.droppedParams ?? [],
        attempts: tracker.call?.trace.attempts ?? [],
        method: request.method,
        path: request.path,
      };
      const trace = tracker.call?.trace;
      if (trace?.guardrails) outcome.guardrails = trace.guardrails;
      if (trace?.guardrailChecks) outcome.guardrailChecks = [...trace.guardrailChecks];
      if (trace?.policyVersion) outcome.policyVersion = trace.policyVersion;
      const policy = trace?.policy;
      if (policy) outcome.workflow = workflowOfOutcome(policy);
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
  const call = tracker.call;
  if (!call) return headers;
  Object.assign(headers, call.trace.headers);
  if (call.trace.served) headers['x-modelgate-provider'] = call.trace.served.target.provider.name;
  const dropped = call.context.droppedParams;
  if (dropped.length > 0) headers['x-modelgate-dropped-params'] = [...new Set(dropped)].join(',');
  return headers;
}

function clientGoneError(): GatewayError {
  return new GatewayError('Client closed the request', { status: 499, code: 'client_closed_request', retryable: false });
}

/** Emits the outcome of a streamed call once its stream is over: completed (200), failed (502) or abandoned (499). */
export function finishStream(
  tracker: CallTracker,
  end: StreamEnd,
  result: {
    usage: Usage | null;
    responseBody: unknown;
    firstByteMs: number | null;
    responseHeaders: Record<string, string>;
    /** A failure the stream reported in its own events (a relayed `response.failed`): recorded as an error. */
    failure?: unknown;
  },
): void {
  const { failure, ...rest } = result;
  const error = end.error ?? failure ?? (end.clientGone ? clientGoneError() : undefined);
  tracker.finish({
    status: end.error || failure ? 502 : end.clientGone ? 499 : 200,
    error,
    ...rest,
  });
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
    if (chunk.json !== undefined) {
      yield chunk.json;
      continue;
    }
    let parsed: Json;
    try {
      parsed = JSON.parse(chunk.data) as Json;
    } catch {
      continue;
    }
    yield parsed;
  }
}

/**
 * A reply that sends a result's exact text (`rawBody`) and reads its `body` only when asked: a cache hit's
 * body is parsed from its stored text on first read, which the relay itself never needs.
 */
class RawJsonReply implements JsonReply {
  readonly kind = 'json' as const;
  status: number;
  headers: Record<string, string>;
  rawBody?: string;
  readonly #result: JsonResult;
  #body: { value: unknown } | undefined;
  constructor(result: JsonResult, headers: Record<string, string>, rawBody: string) {
    this.#result = result;
    this.status = result.status;
    this.headers = headers;
    this.rawBody = rawBody;
  }
  get body(): unknown {
    return this.#body ? this.#body.value : this.#result.body;
  }
  /** A new body replaces the text (the old bytes must not be sent). */
  set body(value: unknown) {
    this.#body = { value };
    delete this.rawBody;
  }
}

/** A provider's JSON result as the reply, relaying the upstream's own text when the adapter left it unchanged. */
export function jsonReply(result: JsonResult, headers: Record<string, string>): JsonReply {
  if (result.rawBody !== undefined) return new RawJsonReply(result, headers, result.rawBody);
  return { kind: 'json', status: result.status, headers, body: result.body };
}
