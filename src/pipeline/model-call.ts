/**
 * The canonical call every inbound API hands to the pipeline. An inbound API (chat, Responses,
 * Messages, embeddings, later passthrough, batches and the Gemini API) validates its own wire format,
 * then describes the call: the model asked for, the body, whether it streams, and how to build the
 * provider request for a given target. Routing stages pick targets; the dispatch stage calls them.
 */
import type { ResolvedModel } from '../core/model-registry.ts';
import type { Attempt, Endpoint, GuardrailRecord, Operation } from '../core/outcome.ts';
import type { GatewayRequest } from '../http/types.ts';
import type { CallContext, Json, ProviderResult } from '../providers/types.ts';
import type { CallPolicy } from './call-policy.ts';

export type { Attempt, GuardrailRecord, Operation };

/**
 * What the stages of one call share, whatever copies of the call they make: every attempt, and the
 * target and operation that finally served it (read by the route and the outcome record).
 */
export interface CallTrace {
  attempts: Attempt[];
  served: { target: ResolvedModel; operation: Operation } | null;
  /** Response headers stages add (routing, cache, limits), merged into the reply. */
  headers: Record<string, string>;
  /**
   * Version of the guardrails and workflow applied to the call (set by the workflow and guardrails-input
   * stages, absent when neither applies): a response cache keys on it, so a policy change is a new key.
   */
  policyVersion?: string;
  /** What the workflow that applies to the call switched (src/pipeline/call-policy.ts); absent: none applies. */
  policy?: CallPolicy;
  /** What guardrails decided (src/guardrails/), for the audit record. */
  guardrails?: GuardrailRecord[];
  /** Guardrails that checked the call, as `phase:name` (for the decision metrics: no event means allow). */
  guardrailChecks?: Set<string>;
  /** Set by the cache stage: whether the answer came from the response cache (recorded in the outcome). */
  cache?: CacheTrace;
}

export interface CacheTrace {
  status: 'hit' | 'miss' | 'bypass';
  /** How a hit was found. */
  type?: 'exact' | 'semantic';
}

export interface ModelCall {
  endpoint: Endpoint;
  /** The model as the client asked for it (an alias, a virtual model, `provider/model` or a bare id). */
  requestedModel: string;
  /** The inbound body, already validated; not changed by stages (they copy). */
  body: Json;
  stream: boolean;
  request: GatewayRequest;
  context: CallContext;
  /** The target the next dispatch goes to; null until a routing or resolve stage sets it. */
  target: ResolvedModel | null;
  /** Operations the inbound API can serve the call with, in order of preference. */
  operations: readonly Operation[];
  /**
   * Builds the upstream body for a target and an operation (model name, per-provider adaptation)
   * from `body`, the call's body as the stages left it (guardrails may have rewritten it).
   * Parameters it cannot map go to `context.droppedParams`.
   */
  prepare(target: ResolvedModel, operation: Operation, body: Json): Promise<Json> | Json;
  trace: CallTrace;
  /**
   * Set on an opaque call (passthrough): the request goes upstream as the client wrote it, to the `target`
   * the inbound API set. Such a call runs only the stages of `opaqueStages` (stage-order.ts), then this
   * relay instead of the dispatch; routing stages never see it.
   */
  relay?: (call: ModelCall) => Promise<ProviderResult>;
}

export interface ModelCallInit {
  endpoint: Endpoint;
  requestedModel: string;
  body: Json;
  stream: boolean;
  operations: readonly Operation[];
  prepare: ModelCall['prepare'];
}

export function createModelCall(request: GatewayRequest, init: ModelCallInit): ModelCall {
  return {
    ...init,
    request,
    context: {
      requestId: request.requestId,
      signal: request.signal,
      droppedParams: [],
      clientHeaders: request.headers,
    },
    target: null,
    trace: { attempts: [], served: null, headers: {} },
  };
}
