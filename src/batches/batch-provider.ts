/**
 * The one interface behind `/v1/batches`: a provider instance that runs OpenAI-shaped batches, natively (OpenAI,
 * Azure OpenAI, Groq: src/batches/native-batches.ts) or translated (Anthropic Message Batches:
 * src/batches/anthropic-batches.ts; Gemini Batch API: src/batches/gemini-batches.ts). The routes, the poller and
 * the usage recorder only see this interface; every adapter speaks OpenAI batch objects and output lines.
 */
import type { ProviderConfig } from '../config/load-config.ts';
import { GatewayError } from '../core/errors.ts';
import type { FileTargets } from '../files/file-targets.ts';
import type { UpstreamClient } from '../providers/upstream-client.ts';
import { createAnthropicBatches } from './anthropic-batches.ts';
import { createGeminiBatches } from './gemini-batches.ts';
import type { SpooledInput } from './batch-input.ts';
import type { StoredBatch } from './batch-store.ts';

import { createNativeBatches } from './native-batches.ts';

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

export interface BatchProvidersOptions {
  providers: ProviderConfig[];
  fileTargets: FileTargets;
  client: UpstreamClient;
  spoolDir: string;
}

export function createBatchProviders(options: BatchProvidersOptions): BatchProviders {
  const all: BatchProvider[] = [];
  for (const config of options.providers) {
    const native = options.fileTargets.byName(config.name);
    if (native) all.push(createNativeBatches(native, options.client));
    else if (config.type === 'anthropic') all.push(createAnthropicBatches(config, options.client, options.spoolDir));
    else if (config.type === 'gemini') all.push(createGeminiBatches(config, options.client, options.spoolDir));
  }
  const names = new Map(all.map((provider) => [provider.name, provider]));
  const list = () => all.map((entry) => entry.name).join(', ') || 'none';
  return {
    all,
    byName: (name) => names.get(name),
    pick(name) {
      if (name !== undefined && name !== '') {
        const found = names.get(name);
        if (found) return found;
        throw new GatewayError(`Provider '${name}' has no batch API here; configured: ${list()}`, {
          status: 400,
          code: 'invalid_provider',
          param: 'provider',
          retryable: false,
        });
      }
      const only = all[0];
      if (all.length === 1 && only) return only;
      throw new GatewayError(
        all.length === 0
          ? 'No configured provider has a batch API (OpenAI, Azure OpenAI, Groq, Anthropic, Gemini)'
          : `Several providers have a batch API: name one with 'provider' or a 'provider/model' (${list()})`,
        { status: 400, code: 'provider_required', param: 'provider', retryable: false },
      );
    },
  };
}
