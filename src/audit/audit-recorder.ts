/**
 * The audit log: one row per model call with request/response metadata and, when enabled, headers
 * and bodies (streamed responses reassembled by the route), redacted and capped, written in batches.
 * Rows older than the retention period are deleted by a periodic sweep.
 */
import { hash } from 'node:crypto';
import type { CallOutcome, KeyOwner, KeyOwnerLookup, OutcomeBus } from '../core/outcome.ts';
import { recordId } from '../storage/record-id.ts';
import { ownerColumns } from '../storage/tables.ts';
import { type BatchWriter, type BatchWriterTuning, createBatchWriter, pickTuning } from '../storage/batch-writer.ts';
import type { AuditLogTable, Storage } from '../storage/database.ts';
import { processScrubber, type SecretScrubber } from '../security/secret-scrubber.ts';
import { capText, redactHeaders, redactJson, redactUrl } from './redaction.ts';

export interface AuditSettings {
  logBodies: boolean;
  logHeaders: boolean;
  maxBodyBytes: number;
  retentionDays: number;
}

/** Batch writer tuning (journal included) passes through to the writer. */
export interface AuditRecorderOptions extends BatchWriterTuning {
  bus: OutcomeBus;
  storage: Storage;
  settings: AuditSettings;
  /** Owner fields of managed keys, copied onto the rows. */
  owner?: KeyOwnerLookup;
  /** Secrets that must never be stored (provider keys, master key). */
  secrets: (string | undefined)[];
  spillDir: string;
  /** How often expired rows are deleted (default hourly). */
  sweepIntervalMs?: number;
  /** A row could not be built whole and was stored in a minimal form (counted in a metric). */
  onRecordFailure?: (error: unknown) => void;
}

export interface AuditRecorder {
  writer: BatchWriter<AuditLogTable>;
  /** Deletes rows older than the retention period; returns how many. */
  sweep(now?: number): Promise<number>;
  close(): Promise<void>;
}

function text(value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch {
    return null;
  }
}

function stringField(value: unknown, name: string): string | null {
  if (!value || typeof value !== 'object') return null;
  const field = (value as Record<string, unknown>)[name];
  return typeof field === 'string' && field.length > 0 && field.length <= 128 ? field : null;
}

/** Hash of the opening of a conversation (instructions and first user turn): calls of one thread share it. */
export function threadKey(body: unknown): string | null {
  if (!body || typeof body !== 'object') return null;
  const record = body as Record<string, unknown>;
  let opening: unknown[] = [];
  if (Array.isArray(record.messages)) {
    const messages = record.messages as { role?: unknown }[];
    const firstUser = messages.findIndex((message) => message && message.role === 'user');
    if (firstUser === -1) return null;
    opening = messages.slice(0, firstUser + 1);
    if (record.system !== undefined) opening.unshift(record.system);
  } else if (record.input !== undefined) {
    if (typeof record.previous_response_id === 'string') return null;
    const input = Array.isArray(record.input) ? (record.input as unknown[]).slice(0, 1) : [record.input];
    opening = record.instructions === undefined ? input : [record.instructions, ...input];
  } else {
    return null;
  }
  return hash('sha256', JSON.stringify(opening), 'hex').slice(0, 32);
}

/** Every upstream attempt of the call, as stored JSON (null when none was made). */
function attemptsText(attempts: CallOutcome['attempts']): string | null {
  if (attempts.length === 0) return null;
  return JSON.stringify(
    attempts.map((attempt) => ({
      provider: attempt.provider,
      model: attempt.model,
      operation: attempt.operation,
      status: attempt.status,
      error: attempt.error,
      latency_ms: Math.round(attempt.latencyMs * 1000) / 1000,
    })),
  );
}

export function auditRow(outcome: CallOutcome, settings: AuditSettings, scrubber: SecretScrubber, owner?: KeyOwner): AuditLogTable {
  const scrub = scrubber.scrubNullable;
  let truncated = false;
  const body = (value: unknown): string | null => {
    const serialized = scrub(text(value === undefined ? undefined : redactJson(value)));
    if (serialized === null) return null;
    const capped = capText(serialized, settings.maxBodyBytes);
    truncated ||= capped.truncated;
    return capped.text;
  };
  const headers = (value: Record<string, string> | undefined): string | null =>
    settings.logHeaders && value ? scrub(JSON.stringify(redactHeaders(value))) : null;
  return {
    id: recordId(),
    request_id: outcome.requestId,
    created_at: outcome.startedAt.getTime(),
    day: outcome.startedAt.toISOString().slice(0, 10),
    method: outcome.method,
    path: scrubber.scrub(redactUrl(outcome.path)),
    endpoint: outcome.endpoint,
    provider: outcome.provider,
    provider_type: outcome.providerType,
    model: scrub(outcome.model),
    requested_model: scrub(outcome.requestedModel),
    stream: outcome.stream ? 1 : 0,
    status: outcome.status,
    error_code: scrub(outcome.error?.code ?? null),
    error_message: scrub(outcome.error?.message ?? null),
    latency_ms: Math.round(outcome.latencyMs * 1000) / 1000,
    first_byte_ms: outcome.firstByteMs === null ? null : Math.round(outcome.firstByteMs * 1000) / 1000,
    key_id: outcome.keyId,
    ...ownerColumns(owner),
    dropped_params: outcome.droppedParams.length > 0 ? [...new Set(outcome.droppedParams)].join(',') : null,
    request_headers: headers(outcome.requestHeaders),
    response_headers: headers(outcome.responseHeaders),
    request_body: settings.logBodies ? body(outcome.requestBody) : null,
    response_body: settings.logBodies ? body(outcome.responseBody) : null,
    body_truncated: truncated ? 1 : 0,
    thread_key: threadKey(outcome.requestBody),
    response_id: outcome.endpoint === 'responses' ? stringField(outcome.responseBody, 'id') : null,
    previous_response_id: outcome.endpoint === 'responses' ? stringField(outcome.requestBody, 'previous_response_id') : null,
    attempts: attemptsText(outcome.attempts),
    guardrails: outcome.guardrails ? scrub(JSON.stringify(outcome.guardrails)) : null,
    policy_version: outcome.policyVersion ?? null,
  };
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The row of an outcome, never lost: when the whole row cannot be built (a body nested too deep for
 * JSON.stringify, for instance), the row without bodies, headers and attempts, its error message saying
 * why; failing that too, only the call's identity and status.
 */
export function safeAuditRow(
  outcome: CallOutcome,
  settings: AuditSettings,
  scrubber: SecretScrubber,
  onFailure: (error: unknown) => void = () => {},
  owner?: KeyOwner,
): AuditLogTable {
  try {
    return auditRow(outcome, settings, scrubber, owner);
  } catch (error) {
    onFailure(error);
    const note = `audit record incomplete (${describeError(error)})`;
    const withError = (row: AuditLogTable): AuditLogTable => ({
      ...row,
      error_code: row.error_code ?? 'record_incomplete',
      error_message: scrubber.scrub(row.error_message ? `${row.error_message}; ${note}` : note),
    });
    try {
      const bare: CallOutcome = { ...outcome, attempts: [], droppedParams: [] };
      delete bare.guardrails;
      delete bare.requestBody;
      delete bare.responseBody;
      delete bare.requestHeaders;
      delete bare.responseHeaders;
      return withError(auditRow(bare, settings, scrubber, owner));
    } catch {
      return withError(minimalAuditRow(outcome, scrubber, owner));
    }
  }
}

function minimalAuditRow(outcome: CallOutcome, scrubber: SecretScrubber, owner?: KeyOwner): AuditLogTable {
  const startedAt = outcome.startedAt instanceof Date && !Number.isNaN(outcome.startedAt.getTime()) ? outcome.startedAt : new Date();
  const textOrNull = (value: unknown): string | null => (typeof value === 'string' ? scrubber.scrub(value) : null);
  return {
    id: recordId(),
    request_id: String(outcome.requestId),
    created_at: startedAt.getTime(),
    day: startedAt.toISOString().slice(0, 10),
    method: String(outcome.method),
    path: scrubber.scrub(String(outcome.path)),
    endpoint: String(outcome.endpoint),
    provider: textOrNull(outcome.provider),
    provider_type: textOrNull(outcome.providerType),
    model: textOrNull(outcome.model),
    requested_model: textOrNull(outcome.requestedModel),
    stream: outcome.stream ? 1 : 0,
    status: Number.isFinite(outcome.status) ? outcome.status : 0,
    error_code: textOrNull(outcome.error?.code),
    error_message: textOrNull(outcome.error?.message),
    latency_ms: Number.isFinite(outcome.latencyMs) ? outcome.latencyMs : 0,
    first_byte_ms: null,
    key_id: textOrNull(outcome.keyId),
    dropped_params: null,
    request_headers: null,
    response_headers: null,
    request_body: null,
    response_body: null,
    body_truncated: 0,
    thread_key: null,
    response_id: null,
    previous_response_id: null,
    attempts: null,
    guardrails: null,
    policy_version: textOrNull(outcome.policyVersion),
    ...ownerColumns(owner),
  };
}

export function createAuditRecorder(options: AuditRecorderOptions): AuditRecorder {
  const { storage, settings } = options;
  if (settings.logBodies) options.bus.captureBodies = true;
  if (settings.logHeaders) options.bus.captureHeaders = true;
  const scrubber = processScrubber;
  scrubber.add(options.secrets);
  const writer = createBatchWriter<AuditLogTable>({
    name: 'audit',
    spillDir: options.spillDir,
    write: (rows) => storage.insertIgnoringDuplicates('audit_log', rows),
    ...pickTuning(options),
  });
  // Stays subscribed after close: a late outcome goes to the spill file and is written at the next start.
  const owner = options.owner;
  options.bus.subscribe((outcome) => {
    // A workflow switched the audit log off for this call.
    if (outcome.workflow?.audit === false) return;
    writer.add(
      safeAuditRow(
        outcome,
        settings,
        scrubber,
        options.onRecordFailure,
        owner && outcome.keyId !== null ? owner(outcome.keyId) : undefined,
      ),
    );
  });

  async function sweep(now = Date.now()): Promise<number> {
    if (settings.retentionDays <= 0) return 0;
    const cutoff = now - settings.retentionDays * 86_400_000;
    const result = await storage.db.deleteFrom('audit_log').where('created_at', '<', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
  const sweeper = setInterval(() => {
    sweep().catch((error: unknown) => options.onError?.(error));
  }, options.sweepIntervalMs ?? 3_600_000);
  sweeper.unref();
  sweep().catch((error: unknown) => options.onError?.(error));

  return {
    writer,
    sweep,
    async close() {
      clearInterval(sweeper);
      await writer.close();
    },
  };
}
