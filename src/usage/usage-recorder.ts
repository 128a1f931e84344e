/** Turns every CallOutcome into one usage row (tokens, cost, latency, status) written in batches. */
import type { CallOutcome, KeyOwner, KeyOwnerLookup, OutcomeBus } from '../core/outcome.ts';
import { recordId } from '../storage/record-id.ts';
import { ownerColumns } from '../storage/tables.ts';
import { type BatchWriter, type BatchWriterTuning, createBatchWriter, pickTuning } from '../storage/batch-writer.ts';
import type { Storage, UsageTable } from '../storage/database.ts';
import { processScrubber } from '../security/secret-scrubber.ts';
import type { PricingTable } from './pricing.ts';

/** Batch writer tuning (journal included) passes through to the writer. */
export interface UsageRecorderOptions extends BatchWriterTuning {
  bus: OutcomeBus;
  storage: Storage;
  pricing: PricingTable;
  spillDir: string;
  /** Owner fields of managed keys, copied onto the rows. */
  owner?: KeyOwnerLookup;
  /** A row could not be built whole and was stored in a minimal form (counted in a metric). */
  onRecordFailure?: (error: unknown) => void;
}

export interface UsageRecorder {
  writer: BatchWriter<UsageTable>;
  close(): Promise<void>;
}

let cachedDay = { start: 0, end: 0, text: '' };

/** `YYYY-MM-DD` (UTC) of a date; the current day's string is reused rather than formatted per record. */
export function utcDay(date: Date): string {
  const time = date.getTime();
  if (time >= cachedDay.start && time < cachedDay.end) return cachedDay.text;
  const start = time - (((time % 86_400_000) + 86_400_000) % 86_400_000);
  cachedDay = { start, end: start + 86_400_000, text: new Date(start).toISOString().slice(0, 10) };
  return cachedDay.text;
}

export function usageRow(outcome: CallOutcome, pricing: PricingTable, owner?: KeyOwner): UsageTable {
  const usage = outcome.usage;
  const pricedModel = outcome.model ?? outcome.requestedModel;
  const priced = pricing.costOf(usage, pricedModel, outcome.provider);
  // A cache hit costs nothing; what it would have cost is recorded as saved.
  const hit = outcome.cacheStatus === 'hit';
  const cost = hit && priced !== null ? 0 : priced;
  return {
    id: recordId(),
    request_id: outcome.requestId,
    created_at: outcome.startedAt.getTime(),
    day: utcDay(outcome.startedAt),
    endpoint: outcome.endpoint,
    provider: outcome.provider,
    provider_type: outcome.providerType,
    // A secret sent as the model name (a key pasted into the wrong field) is not stored.
    model: processScrubber.scrubNullable(outcome.model),
    requested_model: processScrubber.scrubNullable(outcome.requestedModel),
    stream: outcome.stream ? 1 : 0,
    status: outcome.status,
    error_code: processScrubber.scrubNullable(outcome.error?.code ?? null),
    input_tokens: usage?.inputTokens ?? 0,
    output_tokens: usage?.outputTokens ?? 0,
    total_tokens: usage?.totalTokens ?? 0,
    cached_tokens: usage?.cachedTokens ?? 0,
    reasoning_tokens: usage?.reasoningTokens ?? 0,
    cache_write_tokens: usage?.cacheWriteTokens ?? 0,
    cost_usd: cost,
    priced: cost === null ? 0 : 1,
    key_id: outcome.keyId,
    ...ownerColumns(owner),
    latency_ms: Math.round(outcome.latencyMs * 1000) / 1000,
    first_byte_ms: outcome.firstByteMs === null ? null : Math.round(outcome.firstByteMs * 1000) / 1000,
    cache_status: outcome.cacheStatus,
    saved_cost_usd: hit ? priced : null,
  };
}

/**
 * The usage row of an outcome, never lost: when the whole row cannot be built (pricing fails on odd
 * usage, for instance), the row without tokens and cost (unpriced), so the call still counts.
 */
export function safeUsageRow(
  outcome: CallOutcome,
  pricing: PricingTable,
  onFailure: (error: unknown) => void = () => {},
  owner?: KeyOwner,
): UsageTable {
  try {
    return usageRow(outcome, pricing, owner);
  } catch (error) {
    onFailure(error);
    const startedAt = outcome.startedAt instanceof Date && !Number.isNaN(outcome.startedAt.getTime()) ? outcome.startedAt : new Date();
    const textOrNull = (value: unknown): string | null => (typeof value === 'string' ? processScrubber.scrub(value) : null);
    return {
      id: recordId(),
      request_id: String(outcome.requestId),
      created_at: startedAt.getTime(),
      day: utcDay(startedAt),
      endpoint: String(outcome.endpoint),
      provider: textOrNull(outcome.provider),
      provider_type: textOrNull(outcome.providerType),
      model: textOrNull(outcome.model),
      requested_model: textOrNull(outcome.requestedModel),
      stream: outcome.stream ? 1 : 0,
      status: Number.isFinite(outcome.status) ? outcome.status : 0,
      error_code: textOrNull(outcome.error?.code) ?? 'record_incomplete',
      input_tokens: 0,
      output_tokens: 0,
      total_tokens: 0,
      cached_tokens: 0,
      reasoning_tokens: 0,
      cache_write_tokens: 0,
      cost_usd: null,
      priced: 0,
      key_id: textOrNull(outcome.keyId),
      latency_ms: Number.isFinite(outcome.latencyMs) ? outcome.latencyMs : 0,
      first_byte_ms: null,
      cache_status: outcome.cacheStatus,
      saved_cost_usd: null,
      ...ownerColumns(owner),
    };
  }
}

export function createUsageRecorder(options: UsageRecorderOptions): UsageRecorder {
  const { storage } = options;
  const writer = createBatchWriter<UsageTable>({
    name: 'usage',
    spillDir: options.spillDir,
    write: (rows) => storage.insertIgnoringDuplicates('usage', rows),
    ...pickTuning(options),
  });
  // Stays subscribed after close: a late outcome goes to the spill file and is written at the next start.
  const owner = options.owner;
  options.bus.subscribe((outcome) => {
    // A workflow switched usage records off for this call (budget counters are kept by the budget stage).
    if (outcome.workflow?.usage === false) return;
    writer.add(
      safeUsageRow(outcome, options.pricing, options.onRecordFailure, owner && outcome.keyId !== null ? owner(outcome.keyId) : undefined),
    );
  });
  return { writer, close: () => writer.close() };
}
