/**
 * One CallOutcome is emitted per model call. Usage records, the audit log and metrics subscribe to
 * the bus; they observe calls and never wrap them. Subscribers must not block: they queue work.
 */
import type { Usage } from './usage.ts';

/** `guardrail`: the model call an `llm` guardrail made for a call (recorded as usage of the calling key). */
export type Endpoint = 'chat.completions' | 'embeddings' | 'responses' | 'messages' | 'gemini' | 'passthrough' | 'guardrail';

/** Which provider method served a call. */
export type Operation = 'chat' | 'embeddings' | 'responses';

/** One try of one target (routing may try several), as listed in the outcome record. */
export interface Attempt {
  provider: string;
  model: string;
  operation: Operation;
  /** HTTP status the attempt ended with (a stream that started counts as its status, 200). */
  status: number;
  /** Error code when the attempt failed. */
  error: string | null;
  latencyMs: number;
}

/** One guardrail decision of a call (src/guardrails/), as the audit record lists it. */
export interface GuardrailRecord {
  name: string;
  type: string;
  phase: 'input' | 'output';
  action: string;
  reason?: string;
}

/** The owner fields of the managed key a call was made with, copied onto its usage and audit records. */
export interface KeyOwner {
  user: string | null;
  team: string | null;
  tags: string[];
}

/** Finds the owner of a key id (undefined for the master key and unknown keys). */
export type KeyOwnerLookup = (keyId: string) => KeyOwner | undefined;

/** Why a key may not use a model (its allow/deny lists), for calls outside the pipeline; null when it may. */
export type KeyModelAccess = (keyId: string, requested: string, target: { provider: string; model: string }) => Error | null;

export interface CallOutcome {
  requestId: string;
  endpoint: Endpoint;
  /** Provider instance name; null when the call failed before a provider was chosen. */
  provider: string | null;
  providerType: string | null;
  /** Model as the client asked for it. */
  requestedModel: string | null;
  /** Model name sent upstream. */
  model: string | null;
  stream: boolean;
  status: number;
  usage: Usage | null;
  startedAt: Date;
  latencyMs: number;
  /** Time to the first byte sent to the client (streams). */
  firstByteMs: number | null;
  error: { code: string; message: string } | null;
  /** Identifies the gateway key used (never the key itself). */
  keyId: string | null;
  /**
   * Response cache: `none` when the cache is off for the call, `bypass` when the request skipped it;
   * `embedder` marks the semantic cache's own embedding call made on behalf of a call (same request id).
   */
  cacheStatus: 'none' | 'hit' | 'miss' | 'bypass' | 'embedder';
  /** How a cache hit was found. */
  cacheType?: 'exact' | 'semantic';
  droppedParams: string[];
  /** Every upstream attempt of the call, in order (empty when it failed before reaching a provider). */
  attempts: Attempt[];
  /** What guardrails decided (absent when none acted). */
  guardrails?: GuardrailRecord[];
  /** Guardrails that checked the call, as `phase:name` (absent when none did); those without a decision allowed it. */
  guardrailChecks?: string[];
  /** Version of the guardrails and workflow applied (absent when neither applies). */
  policyVersion?: string;
  /** The workflow that applied to the call (src/workflows/) and its record switches; absent when none did. */
  workflow?: { name: string; version: string; audit: boolean; usage: boolean };
  /** HTTP method and path as the client called them. */
  method: string;
  path: string;
  /** Present only when the audit log captures bodies or headers. */
  requestHeaders?: Record<string, string>;
  responseHeaders?: Record<string, string>;
  requestBody?: unknown;
  responseBody?: unknown;
}

export type OutcomeListener = (outcome: CallOutcome) => void;

export interface OutcomeBus {
  subscribe(listener: OutcomeListener): () => void;
  emit(outcome: CallOutcome): void;
  /** True when some subscriber asked for bodies/headers to be captured. */
  captureBodies: boolean;
  captureHeaders: boolean;
}

export function createOutcomeBus(onListenerError: (error: unknown) => void = () => {}): OutcomeBus {
  const listeners = new Set<OutcomeListener>();
  return {
    captureBodies: false,
    captureHeaders: false,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(outcome) {
      for (const listener of listeners) {
        try {
          listener(outcome);
        } catch (error) {
          onListenerError(error);
        }
      }
    },
  };
}
