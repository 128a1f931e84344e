/** The one CallOutcome of a passthrough call, emitted once however the call ends. */
import { GatewayError, toGatewayError } from '../core/errors.ts';
import type { CallOutcome, OutcomeBus } from '../core/outcome.ts';
import type { GatewayRequest } from '../http/types.ts';
import { workflowOfOutcome } from '../pipeline/call-policy.ts';
import type { CallTrace } from '../pipeline/model-call.ts';
import type { Json } from '../providers/types.ts';
import type { NativeReading } from './native-usage.ts';
import type { PassthroughTarget } from './passthrough-targets.ts';

export interface PassthroughFinish {
  status: number;
  reading: NativeReading;
  stream: boolean;
  responseHeaders?: Record<string, string>;
  responseBody?: unknown;
  firstByteMs?: number | null;
  error?: unknown;
  clientGone?: boolean;
}

export interface PassthroughOutcome {
  setRequest(requestedModel: string | null, body: Json | undefined): void;
  /** The call's trace once it runs through the pipeline: the workflow applied (its audit and usage switches). */
  setTrace(trace: CallTrace): void;
  finish(result: PassthroughFinish): void;
}

function flatHeaders(headers: GatewayRequest['headers']): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/** The error of an answer: the gateway's own, the client leaving, or the provider's HTTP status. */
function errorOf(result: PassthroughFinish): GatewayError | null {
  if (result.error !== undefined && result.error !== null) return toGatewayError(result.error);
  if (result.clientGone)
    return new GatewayError('Client closed the request', { status: 499, code: 'client_closed_request', retryable: false });
  if (result.status >= 400)
    return new GatewayError(`Provider answered HTTP ${result.status}`, { status: result.status, code: `upstream_${result.status}` });
  return null;
}

export function createPassthroughOutcome(bus: OutcomeBus, request: GatewayRequest, target: PassthroughTarget | null): PassthroughOutcome {
  const startedAt = new Date();
  let requestedModel: string | null = null;
  let requestBody: Json | undefined;
  let trace: CallTrace | undefined;
  let finished = false;
  return {
    setRequest(model, body) {
      requestedModel = model;
      requestBody = body;
    },
    setTrace(callTrace) {
      trace = callTrace;
    },
    finish(result) {
      if (finished) return;
      finished = true;
      const error = errorOf(result);
      const outcome: CallOutcome = {
        requestId: request.requestId,
        endpoint: 'passthrough',
        provider: target?.name ?? null,
        providerType: target?.type ?? null,
        requestedModel,
        model: result.reading.model ?? requestedModel,
        stream: result.stream,
        status: error && (result.error || result.clientGone) ? error.status : result.status,
        usage: result.reading.usage,
        startedAt,
        latencyMs: performance.now() - request.startedAt,
        firstByteMs: result.firstByteMs ?? null,
        error: error ? { code: error.code, message: error.message } : null,
        keyId: request.keyId,
        cacheStatus: 'none',
        droppedParams: [],
        attempts: [],
        method: request.method,
        path: request.path,
      };
      if (trace?.policyVersion) outcome.policyVersion = trace.policyVersion;
      if (trace?.policy) outcome.workflow = workflowOfOutcome(trace.policy);
      if (bus.captureHeaders) {
        outcome.requestHeaders = flatHeaders(request.headers);
        if (result.responseHeaders) outcome.responseHeaders = result.responseHeaders;
      }
      if (bus.captureBodies) {
        outcome.requestBody = requestBody;
        outcome.responseBody = result.error ? toGatewayError(result.error).toBody() : result.responseBody;
      }
      bus.emit(outcome);
    },
  };
}
