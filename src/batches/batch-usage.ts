/**
 * Records the usage of a finished batch exactly once per item. Each output (and error) line becomes one usage
 * row whose id is derived from the batch id and the line's `custom_id`, written with "insert, skip ids already
 * stored": a second results fetch, a restart half-way through, or two replicas settling the same batch at once
 * add nothing. The batch is marked settled after every row is in, so later fetches skip the work.
 *
 * Cost is the provider's standard price (src/usage/pricing.ts) times its batch discount: 50% at OpenAI
 * (https://platform.openai.com/docs/guides/batch: "a 50% discount" on both input and output), Azure OpenAI
 * (https://learn.microsoft.com/en-us/azure/ai-services/openai/how-to/batch: "50% less cost than global standard")
 * and Groq (https://console.groq.com/docs/batch: "50% lower cost"), Anthropic Message Batches
 * (https://docs.anthropic.com/en/docs/build-with-claude/batch-processing: "reducing costs by 50%") and the Gemini
 * Batch API (https://ai.google.dev/gemini-api/docs/batch-mode; "priced at 50% less than the standard rate",
 * https://developers.googleblog.com/scale-your-ai-workloads-batch-mode-gemini-api).
 * A request that never ran (cancelled or expired in the batch) is recorded with no tokens: 499 and 408.
 * A batch whose workflow switched usage off (`gateway_workflow.usage`, decided when it was created) gets no rows.
 */
import { createHash } from 'node:crypto';
import type { KeyOwner, KeyOwnerLookup } from '../core/outcome.ts';
import { usageFromOpenAI } from '../core/usage.ts';
import type { Storage, UsageTable } from '../storage/database.ts';
import { ownerColumns } from '../storage/tables.ts';
import type { PricingTable } from '../usage/pricing.ts';
import { utcDay } from '../usage/usage-recorder.ts';
import type { BatchProvider } from './batch-provider.ts';
import type { BatchStore, StoredBatch } from './batch-store.ts';
import { jsonlLines } from './jsonl-lines.ts';

type Json = Record<string, unknown>;

export const batchDiscount: Record<string, number> = { openai: 0.5, azure: 0.5, groq: 0.5, anthropic: 0.5, gemini: 0.5 };

/** Statuses after which the provider changes nothing (https://platform.openai.com/docs/api-reference/batch/object). */
export const finalStatuses = new Set(['completed', 'failed', 'expired', 'cancelled']);

/** Items that never ran: OpenAI's error codes for them (https://platform.openai.com/docs/guides/batch). */
const notRunStatus: Record<string, number> = { batch_cancelled: 499, batch_expired: 408 };

const rowsPerInsert = 500;
const maxLineBytes = 16 * 1024 * 1024;

export interface BatchUsageDependencies {
  storage: Storage;
  store: BatchStore;
  pricing: PricingTable;
  /** The user, team and tags of a managed key (governance), for the usage rows. */
  keyOwner?: KeyOwnerLookup;
}

export function itemUsageId(batchId: string, customId: string): string {
  return `batch-${createHash('sha256').update(`${batchId}\u0000${customId}`).digest('hex').slice(0, 48)}`;
}

function usageRowOf(
  batch: StoredBatch,
  target: BatchProvider,
  line: Json,
  index: string,
  pricing: PricingTable,
  createdAt: number,
  owner: KeyOwner | undefined,
): UsageTable {
  const response = (line.response ?? null) as Json | null;
  const body = (response?.body ?? null) as Json | null;
  const error = (line.error ?? body?.error ?? null) as Json | null;
  const status = typeof response?.status_code === 'number' ? response.status_code : (notRunStatus[String(error?.code)] ?? 500);
  const usage = usageFromOpenAI(body?.usage);
  const model = typeof body?.model === 'string' ? body.model : null;
  const standard = pricing.costOf(usage, model, target.name);
  const cost = standard === null ? null : standard * (batchDiscount[target.type] ?? 1);
  const customId = typeof line.custom_id === 'string' ? line.custom_id : index;
  return {
    id: itemUsageId(batch.id, customId),
    request_id: batch.id,
    created_at: createdAt,
    day: utcDay(new Date(createdAt)),
    endpoint: 'batch',
    provider: target.name,
    provider_type: target.type,
    model,
    requested_model: model,
    stream: 0,
    status,
    error_code: error ? String(error.code ?? error.type ?? 'error').slice(0, 128) : null,
    input_tokens: usage?.inputTokens ?? 0,
    output_tokens: usage?.outputTokens ?? 0,
    total_tokens: usage?.totalTokens ?? 0,
    cached_tokens: usage?.cachedTokens ?? 0,
    reasoning_tokens: usage?.reasoningTokens ?? 0,
    cache_write_tokens: usage?.cacheWriteTokens ?? 0,
    cost_usd: cost,
    priced: cost === null ? 0 : 1,
    key_id: batch.owner === '' ? null : batch.owner,
    ...ownerColumns(owner),
    latency_ms: 0,
    first_byte_ms: null,
    cache_status: 'none',
    saved_cost_usd: null,
  };
}

/** Records the batch's usage if it is final and not recorded yet; returns whether it is recorded now. */
export async function settleBatchUsage(
  dependencies: BatchUsageDependencies,
  batch: StoredBatch,
  provider: BatchProvider,
): Promise<boolean> {
  if (batch.usageRecordedAt !== null) return true;
  if (!finalStatuses.has(batch.status)) return false;
  if ((batch.object.gateway_workflow as { usage?: unknown } | undefined)?.usage === false) {
    // The batch's workflow switched usage records off: settled without rows.
    await dependencies.store.markUsageRecorded(batch.id);
    batch.usageRecordedAt = Date.now();
    return true;
  }
  const completedAt = Number(batch.object.completed_at ?? batch.object.cancelled_at ?? batch.object.expired_at ?? batch.object.failed_at);
  const createdAt = Number.isFinite(completedAt) && completedAt > 0 ? completedAt * 1000 : batch.createdAt;
  const owner = batch.owner === '' ? undefined : dependencies.keyOwner?.(batch.owner);
  let rows: UsageTable[] = [];
  let index = 0;
  for await (const text of jsonlLines(await provider.results(batch), maxLineBytes, 'the batch results')) {
    index += 1;
    let line: Json;
    try {
      line = JSON.parse(text) as Json;
    } catch {
      continue;
    }
    rows.push(usageRowOf(batch, provider, line, `#${index}`, dependencies.pricing, createdAt, owner));
    if (rows.length >= rowsPerInsert) {
      await dependencies.storage.insertIgnoringDuplicates('usage', rows);
      rows = [];
    }
  }
  await dependencies.storage.insertIgnoringDuplicates('usage', rows);
  await dependencies.store.markUsageRecorded(batch.id);
  batch.usageRecordedAt = Date.now();
  return true;
}
