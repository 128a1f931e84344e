/**
 * What the batch routes and the poller share: a batch's provider, its refresh from the provider, the mapping of
 * provider file ids in a batch object to gateway files owned by the batch's key, and settling its usage.
 */
import { GatewayError } from '../core/errors.ts';
import { type FileStore, producedFileId } from '../files/file-store.ts';
import type { FileTarget, FileTargets } from '../files/file-targets.ts';
import { callProviderJson } from '../files/provider-call.ts';
import type { StoredBatch } from './batch-store.ts';
import { type BatchUsageDependencies, settleBatchUsage } from './batch-usage.ts';

type Json = Record<string, unknown>;

export interface BatchService {
  targetOf(batch: StoredBatch): FileTarget;
  /** Fetches the provider's batch object, saves it, and records usage once the batch is final. */
  refresh(batch: StoredBatch, signal?: AbortSignal): Promise<StoredBatch>;
  settle(batch: StoredBatch): Promise<boolean>;
  /** The batch object as the client sees it: gateway ids for the batch and its files. */
  publicBatch(batch: StoredBatch): Promise<Json>;
}

export interface BatchServiceDependencies extends BatchUsageDependencies {
  targets: FileTargets;
  files: FileStore;
}

export function createBatchService(dependencies: BatchServiceDependencies): BatchService {
  const targetOf = (batch: StoredBatch): FileTarget => {
    const target = dependencies.targets.byName(batch.provider);
    if (!target) {
      throw new GatewayError(`The provider '${batch.provider}' of batch ${batch.id} is no longer configured`, {
        status: 502,
        code: 'provider_not_configured',
        retryable: false,
      });
    }
    return target;
  };

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
    targetOf,
    async refresh(batch, signal) {
      const target = targetOf(batch);
      const object = await callProviderJson(dependencies.client, target, {
        method: 'GET',
        resource: `batches/${encodeURIComponent(batch.providerBatchId)}`,
        ...(signal ? { signal } : {}),
      });
      batch.object = { ...object, gateway_input_file_id: batch.object.gateway_input_file_id };
      batch.status = typeof object.status === 'string' ? object.status : batch.status;
      await dependencies.store.update(batch);
      await settleBatchUsage(dependencies, batch, target);
      return batch;
    },
    settle: (batch) => settleBatchUsage(dependencies, batch, targetOf(batch)),
    async publicBatch(batch) {
      const { gateway_input_file_id: inputFileId, ...object } = batch.object;
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
