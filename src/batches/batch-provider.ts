/**
 * The one interface behind `/v1/batches`: a provider instance that runs OpenAI-shaped batches, natively (OpenAI,
 * Azure OpenAI, Groq: src/batches/native-batches.ts) or translated (Anthropic Message Batches:
 * src/batches/anthropic-batches.ts; Gemini Batch API: src/batches/gemini-batches.ts). The routes, the poller and
 * the usage recorder only see this interface; every adapter speaks OpenAI batch objects and output lines. Which
 * adapter serves which configured provider: src/batches/batch-providers.ts.
 */
import type { SpooledInput } from './batch-input.ts';
import type { StoredBatch } from './batch-store.ts';

type Json = Record<string, unknown>;

/** A batch as the provider reports it, in OpenAI's shape. */
export interface ProviderBatch {
  /** The provider's batch id (OpenAI `batch_...`, Anthropic `msgbatch_...`, Gemini `batches/...`). */
  id: string;
  /** OpenAI status: validating, in_progress, finalizing, completed, failed, expired, cancelling, cancelled. */
  status: string;
  /** The OpenAI batch object (provider ids); keys starting with `gateway_` are the gateway's own and never shown. */
  object: Json;
}

export interface CreateBatchOptions {
  endpoint: string;
  completionWindow: unknown;
  metadata: unknown;
  /** The provider's id of the caller's input file when it can be used unchanged (native only). */
  unchangedFileId: string | null;
  signal: AbortSignal;
}

export interface BatchProvider {
  name: string;
  type: string;
  /** Most request lines one batch may hold at this provider. */
  maxRequests: number;
  /** Starts a batch from the prepared request lines (OpenAI batch input JSONL in a spool file). */
  create(input: SpooledInput, options: CreateBatchOptions): Promise<ProviderBatch>;
  retrieve(batch: StoredBatch, signal?: AbortSignal): Promise<ProviderBatch>;
  cancel(batch: StoredBatch, signal?: AbortSignal): Promise<ProviderBatch>;
  /**
   * The results of a final batch as OpenAI batch output JSONL (output lines, then error lines), read from the
   * provider as they are sent. The first upstream request is made before this resolves, so that a provider error
   * is still an error answer.
   */
  results(batch: StoredBatch, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array>>;
}

export interface BatchProviders {
  all: BatchProvider[];
  byName(name: string): BatchProvider | undefined;
  /** The instance a request names, or the only one configured; 400 otherwise. */
  pick(name: string | undefined): BatchProvider;
}
