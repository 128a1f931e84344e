/**
 * Anthropic Message Batches <-> OpenAI batch objects and output lines, pure functions.
 * - Batch object (https://docs.anthropic.com/en/api/retrieving-message-batches): `processing_status`
 *   in_progress | canceling | ended, `request_counts` {processing, succeeded, errored, canceled, expired},
 *   RFC 3339 `created_at`, `expires_at`, `ended_at`, `cancel_initiated_at`, `results_url`.
 * - Result lines (https://docs.anthropic.com/en/api/retrieving-message-batch-results): `{"custom_id","result":
 *   {"type":"succeeded","message"} | {"type":"errored","error":{"type":"error","error":{"type","message"}}} |
 *   {"type":"canceled"} | {"type":"expired"}}`.
 * - OpenAI batch object and output lines (https://platform.openai.com/docs/api-reference/batch/object,
 *   https://platform.openai.com/docs/guides/batch): `{"id","custom_id","response":{"status_code","request_id",
 *   "body"},"error"}`; requests that never ran carry `response: null` and `error.code` batch_cancelled or
 *   batch_expired.
 */
import { createHash } from 'node:crypto';
import { jsonResponseToolName } from '../providers/anthropic/anthropic-request.ts';
import { fromAnthropicMessage } from '../providers/anthropic/anthropic-response.ts';

type Json = Record<string, unknown>;

/** Seconds since the epoch of an RFC 3339 time, or null. */
export function epochSeconds(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const parsed = Date.parse(value);
  return Number.isFinite(parsed) ? Math.floor(parsed / 1000) : null;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : 0;
}

/** The OpenAI status of a Message Batch. */
export function statusFromAnthropic(batch: Json): string {
  const counts = (batch.request_counts ?? {}) as Json;
  if (batch.processing_status === 'in_progress') return 'in_progress';
  if (batch.processing_status === 'canceling') return 'cancelling';
  if (batch.processing_status !== 'ended') return 'in_progress';
  if (typeof batch.cancel_initiated_at === 'string') return 'cancelled';
  return count(counts.expired) > 0 ? 'expired' : 'completed';
}

/** Message Batch -> the OpenAI batch object (provider id; the gateway puts its own id in front of clients). */
export function batchFromAnthropic(batch: Json, base: { endpoint: string; metadata: unknown }): Json {
  const status = statusFromAnthropic(batch);
  const counts = (batch.request_counts ?? {}) as Json;
  const succeeded = count(counts.succeeded);
  const failed = count(counts.errored) + count(counts.canceled) + count(counts.expired);
  const created = epochSeconds(batch.created_at);
  const ended = epochSeconds(batch.ended_at);
  const cancelling = epochSeconds(batch.cancel_initiated_at);
  return {
    id: batch.id,
    object: 'batch',
    endpoint: base.endpoint,
    errors: null,
    input_file_id: null,
    completion_window: '24h',
    status,
    output_file_id: null,
    error_file_id: null,
    created_at: created ?? Math.floor(Date.now() / 1000),
    in_progress_at: created,
    expires_at: epochSeconds(batch.expires_at),
    finalizing_at: null,
    completed_at: status === 'completed' ? ended : null,
    failed_at: null,
    expired_at: status === 'expired' ? ended : null,
    cancelling_at: cancelling,
    cancelled_at: status === 'cancelled' ? ended : null,
    request_counts: { total: succeeded + failed + count(counts.processing), completed: succeeded, failed },
    metadata: base.metadata ?? null,
    // Where the results are (https://docs.anthropic.com/en/api/retrieving-message-batches: "results_url").
    gateway_results_url: typeof batch.results_url === 'string' ? batch.results_url : null,
  };
}

/** HTTP status of an Anthropic error type (https://docs.anthropic.com/en/api/errors). */
const errorStatus: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529,
};

export function batchRequestId(batchId: string, customId: string): string {
  return `batch_req_${createHash('sha256').update(`${batchId}\u0000${customId}`).digest('hex').slice(0, 32)}`;
}

/** One result line -> one OpenAI batch output line. `created` is the batch's end, for chat.completion `created`. */
export function lineFromAnthropic(line: Json, batchId: string, created: number): Json {
  const customId = typeof line.custom_id === 'string' ? line.custom_id : '';
  const result = (line.result ?? {}) as Json;
  const id = batchRequestId(batchId, customId);
  if (result.type === 'succeeded' && result.message && typeof result.message === 'object') {
    const message = result.message as Json;
    // A json_schema response_format was sent as a forced tool of this name (src/providers/anthropic/anthropic-request.ts).
    const { body } = fromAnthropicMessage(message, { created, jsonToolName: jsonResponseToolName });
    return { id, custom_id: customId, response: { status_code: 200, request_id: message.id ?? null, body }, error: null };
  }
  if (result.type === 'errored') {
    const envelope = (result.error ?? {}) as Json;
    const error = (envelope.error ?? envelope) as Json;
    const type = typeof error.type === 'string' ? error.type : 'api_error';
    const message = typeof error.message === 'string' ? error.message : 'The request failed at Anthropic';
    const requestId = typeof envelope.request_id === 'string' ? envelope.request_id : null;
    return {
      id,
      custom_id: customId,
      response: {
        status_code: errorStatus[type] ?? 500,
        request_id: requestId,
        body: { error: { message, type, code: type, param: null } },
      },
      error: null,
    };
  }
  const expired = result.type === 'expired';
  return {
    id,
    custom_id: customId,
    response: null,
    error: expired
      ? { code: 'batch_expired', message: 'This request could not be executed before the batch expired.' }
      : { code: 'batch_cancelled', message: 'This request was cancelled with its batch before it ran.' },
  };
}
