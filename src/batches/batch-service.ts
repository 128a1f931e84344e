/**
 * What the batch routes and the poller share: a batch's provider adapter (src/batches/batch-provider.ts), its refresh, the mapping of
 * provider file ids in a batch object to gateway files owned by the batch's key, and settling its usage.
 */
import { GatewayError } from '../core/errors.ts';
import { type FileStore, producedFileId } from '../files/file-store.ts';
import type { BatchProvider, BatchProviders, ProviderBatch } from './batch-provider.ts';
import type { StoredBatch } from './batch-store.ts';
import { type BatchUsageDependencies, settleBatchUsage } from './batch-usage.ts';

type Json = Record<string, unknown>;

export interface BatchService {
  providerOf(batch: StoredBatch): BatchProvider;
  /** Saves what the provider reported (keeping the gateway's own fields). */
  save(batch: StoredBatch, reported: ProviderBatch): Promise<void>;
  /** Fetches the provider's batch object, saves it, and records usage once the batch is final. */
  refresh(batch: StoredBatch, signal?: AbortSignal): Promise<StoredBatch>;
  settle(batch: StoredBatch): Promise<boolean>;
  /** The batch object as the client sees it: gateway ids for the batch and its files. */
  publicBatch(batch: StoredBatch): Promise<Json>;
}

export interface BatchServiceDependencies extends BatchUsageDependencies {
  providers: BatchProviders;
  files: FileStore;
}

export function createBatchService(dependencies: BatchServiceDependencies): BatchService {
  const providerOf = (batch: StoredBatch): BatchProvider => {
    const provider = dependencies.providers.byName(batch.provider);
    if (!provider) {
      throw new GatewayError(`The provider '${batch.provider}' of batch ${batch.id} is no longer configured`, {
        status: 502,
        code: 'provider_not_configured',
        retryable: false,
      });
    }
    return provider;
  };

  async function save(batch: StoredBatch, reported: ProviderBatch): Promise<void> {
    // The gateway's own fields (gateway_input_file_id, gateway_workflow) are kept.
    const own = Object.fromEntries(Object.entries(batch.object).filter(([name]) => name.startsWith('gateway_')));
    batch.object = { ...reported.object, gateway_input_file_id: null, ...own };
    batch.status = reported.status;
    await dependencies.store.update(batch);
  }

  /** The gateway id of a provider file for this owner, registering files the provider made (output, errors). */
  async function gatewayFileId(batch: StoredBatch, providerFileId: unknown, purpose: string): Promise<string | null> {
    if (typeof providerFileId !== 'string' || providerFileId === '') return null;
    const known = await dependencies.files.findByProviderId(batch.owner, batch.provider, providerFileId);
    if (known) return known.id;
    const object: Json = {
      id: providerFileId,
      object: 'file',
      bytes: 0,
      created_at: Math.floor(Date.now() / 1000),
      filename: `${batch.id}_${purpose}.jsonl`,
      purpose: 'batch_output',
      status: 'processed',
    };
    const added = await dependencies.files.add({
      id: producedFileId(batch.owner, batch.provider, providerFileId),
      owner: batch.owner,
      provider: batch.provider,
      providerFileId,
      filename: String(object.filename),
      purpose: 'batch_output',
      bytes: 0,
      status: 'processed',
      object,
    });
    return added.id;
  }

  return {
    providerOf,
    save,
    async refresh(batch, signal) {
      const provider = providerOf(batch);
      await save(batch, await provider.retrieve(batch, signal));
      await settleBatchUsage(dependencies, batch, provider);
      return batch;
    },
    settle: (batch) => settleBatchUsage(dependencies, batch, providerOf(batch)),
    async publicBatch(batch) {
      const inputFileId = batch.object.gateway_input_file_id;
      // The gateway's own fields (gateway_...) stay inside.
      const object = Object.fromEntries(Object.entries(batch.object).filter(([name]) => !name.startsWith('gateway_')));
      return {
        ...object,
        id: batch.id,
        object: 'batch',
        input_file_id: inputFileId ?? null,
        output_file_id: await gatewayFileId(batch, object.output_file_id, 'output'),
        error_file_id: await gatewayFileId(batch, object.error_file_id, 'errors'),
      };
    },
  };
}
