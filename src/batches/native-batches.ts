/**
 * Batches run by the provider itself, in OpenAI's Batch API (https://platform.openai.com/docs/api-reference/batch):
 * OpenAI, Azure OpenAI and Groq (src/files/file-targets.ts). The prepared input is uploaded as a file (unless the
 * caller's file can be used unchanged), and the results are the provider's output and error files.
 */
import { encodeMultipart } from '../files/multipart-body.ts';
import type { FileTarget } from '../files/file-targets.ts';
import { callProvider, callProviderJson } from '../files/provider-call.ts';
import type { UpstreamClient } from '../providers/upstream-client.ts';
import { maxBatchRequests, type SpooledInput } from './batch-input.ts';
import type { BatchProvider, ProviderBatch } from './batch-provider.ts';
import type { StoredBatch } from './batch-store.ts';

type Json = Record<string, unknown>;

function providerBatch(object: Json, fallbackStatus = 'validating'): ProviderBatch {
  return { id: String(object.id ?? ''), status: typeof object.status === 'string' ? object.status : fallbackStatus, object };
}

export function createNativeBatches(target: FileTarget, client: UpstreamClient): BatchProvider {
  async function upload(input: SpooledInput, signal: AbortSignal): Promise<string> {
    const multipart = encodeMultipart([['purpose', 'batch']], {
      field: 'file',
      filename: 'batch_input.jsonl',
      contentType: 'application/jsonl',
      path: input.path,
      bytes: input.bytes,
    });
    const object = await callProviderJson(client, target, {
      method: 'POST',
      resource: 'files',
      body: multipart.body,
      headers: multipart.headers,
      signal,
    });
    return String(object.id ?? '');
  }

  const batchCall = async (batch: StoredBatch, suffix: string, method: 'GET' | 'POST', signal?: AbortSignal) =>
    providerBatch(
      await callProviderJson(client, target, {
        method,
        resource: `batches/${encodeURIComponent(batch.providerBatchId)}${suffix}`,
        ...(signal ? { signal } : {}),
      }),
      batch.status,
    );

  return {
    name: target.name,
    type: target.type,
    maxRequests: maxBatchRequests,
    async create(input, options) {
      const fileId = options.unchangedFileId ?? (await upload(input, options.signal));
      const payload: Json = { input_file_id: fileId, endpoint: options.endpoint, completion_window: options.completionWindow ?? '24h' };
      if (options.metadata !== undefined) payload.metadata = options.metadata;
      const object = await callProviderJson(client, target, {
        method: 'POST',
        resource: 'batches',
        body: JSON.stringify(payload),
        signal: options.signal,
      });
      return providerBatch(object);
    },
    retrieve: (batch, signal) => batchCall(batch, '', 'GET', signal),
    cancel: (batch, signal) => batchCall(batch, '/cancel', 'POST', signal),
    async results(batch, signal) {
      const fileIds = [batch.object.output_file_id, batch.object.error_file_id].filter(
        (id): id is string => typeof id === 'string' && id !== '',
      );
      const open = (fileId: string) =>
        callProvider(client, target, {
          method: 'GET',
          resource: `files/${encodeURIComponent(fileId)}/content`,
          ...(signal ? { signal } : {}),
        });
      const first = fileIds[0] === undefined ? null : await open(fileIds[0]);
      async function* body(): AsyncGenerator<Uint8Array> {
        for (const [index, fileId] of fileIds.entries()) {
          const response = index === 0 && first ? first : await open(fileId);
          let last: Uint8Array | null = null;
          for await (const chunk of response.body) {
            last = chunk as Uint8Array;
            yield last;
          }
          // Two files joined: make sure a line ends before the next file begins.
          if (last && last.length > 0 && last[last.length - 1] !== 10) yield Buffer.from('\n');
        }
      }
      return body();
    },
  };
}
