/**
 * Gemini Batch API <-> OpenAI batch objects and output lines, pure functions
 * (https://ai.google.dev/api/batch-mode, guide https://ai.google.dev/gemini-api/docs/batch-mode).
 * - `models.batchGenerateContent` and `batches.get` answer a long-running Operation: {"name":"batches/...",
 *   "metadata":{"@type":"...GenerateContentBatch","model","displayName","createTime","updateTime","endTime",
 *   "batchStats":{"requestCount","successfulRequestCount","failedRequestCount","pendingRequestCount"} (int64 as
 *   strings),"state":"BATCH_STATE_PENDING"|RUNNING|SUCCEEDED|FAILED|CANCELLED|EXPIRED},"done","error",
 *   "response":{"@type":"...GenerateContentBatchOutput","inlinedResponses":{"inlinedResponses":[{"metadata":
 *   {"key"},"response":GenerateContentResponse}|{"metadata","error":google.rpc.Status}]}}}.
 * - A batch still pending or running after 48 hours expires (the guide, "Batch job expiration"): `expires_at` is
 *   creation + 48 h.
 * - OpenAI batch object and output lines: https://platform.openai.com/docs/api-reference/batch/object.
 */
import { geminiResponseToChat } from '../providers/gemini/gemini-response-translation.ts';
import { batchRequestId, epochSeconds } from './anthropic-batch-format.ts';

type Json = Record<string, unknown>;

const expirySeconds = 48 * 3600;

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

function count(value: unknown): number {
  const parsed = typeof value === 'string' ? Number(value) : value;
  return typeof parsed === 'number' && Number.isInteger(parsed) && parsed >= 0 ? parsed : 0;
}

/** The batch's state (`BATCH_STATE_*`; the SDKs' `JOB_STATE_*` spelling is read too). */
export function geminiState(operation: Json): string {
  const metadata = isObject(operation.metadata) ? operation.metadata : {};
  return String(metadata.state ?? '').replace(/^JOB_STATE_/, 'BATCH_STATE_');
}

/** The OpenAI status of a Gemini batch; `cancelRequested` while a cancel has been asked and is not final yet. */
export function statusFromGemini(operation: Json, cancelRequested: boolean): string {
  const state = geminiState(operation);
  if (state === 'BATCH_STATE_SUCCEEDED') return 'completed';
  if (state === 'BATCH_STATE_FAILED') return 'failed';
  if (state === 'BATCH_STATE_CANCELLED') return 'cancelled';
  if (state === 'BATCH_STATE_EXPIRED') return 'expired';
  if (operation.done === true) return isObject(operation.error) ? 'failed' : 'completed';
  if (cancelRequested) return 'cancelling';
  return state === 'BATCH_STATE_RUNNING' ? 'in_progress' : 'validating';
}

/** Operation -> OpenAI batch object (without the responses, which are read again for the results). */
export function batchFromGemini(operation: Json, base: { endpoint: string; metadata: unknown; cancelRequested: boolean }): Json {
  const metadata = isObject(operation.metadata) ? operation.metadata : {};
  const stats = isObject(metadata.batchStats) ? metadata.batchStats : {};
  const status = statusFromGemini(operation, base.cancelRequested);
  const created = epochSeconds(metadata.createTime) ?? Math.floor(Date.now() / 1000);
  const ended = epochSeconds(metadata.endTime) ?? (operation.done === true ? (epochSeconds(metadata.updateTime) ?? created) : null);
  const error = isObject(operation.error) ? operation.error : null;
  return {
    id: operation.name,
    object: 'batch',
    endpoint: base.endpoint,
    errors: error
      ? {
          object: 'list',
          data: [{ code: String(error.status ?? error.code ?? 'error'), message: String(error.message ?? ''), param: null, line: null }],
        }
      : null,
    input_file_id: null,
    completion_window: '24h',
    status,
    output_file_id: null,
    error_file_id: null,
    created_at: created,
    in_progress_at: geminiState(operation) === 'BATCH_STATE_PENDING' ? null : created,
    expires_at: created + expirySeconds,
    finalizing_at: null,
    completed_at: status === 'completed' ? ended : null,
    failed_at: status === 'failed' ? ended : null,
    expired_at: status === 'expired' ? ended : null,
    cancelling_at: null,
    cancelled_at: status === 'cancelled' ? ended : null,
    request_counts: {
      total: count(stats.requestCount),
      completed: count(stats.successfulRequestCount),
      failed: count(stats.failedRequestCount),
    },
    metadata: base.metadata ?? null,
    gateway_model: typeof metadata.model === 'string' ? metadata.model.replace(/^models\//, '') : null,
    gateway_cancel_requested: base.cancelRequested,
  };
}

/** The inlined responses of a finished batch (under `response`, or `metadata.output`). */
export function inlinedResponses(operation: Json): Json[] {
  const metadata = isObject(operation.metadata) ? operation.metadata : {};
  for (const holder of [operation.response, isObject(metadata.output) ? metadata.output : undefined]) {
    if (!isObject(holder)) continue;
    const inlined = holder.inlinedResponses;
    const list = isObject(inlined) ? inlined.inlinedResponses : inlined;
    if (Array.isArray(list)) return list.filter(isObject);
  }
  return [];
}

/** HTTP status of a google.rpc.Status code (https://github.com/googleapis/googleapis/blob/master/google/rpc/code.proto). */
const httpOfGrpc: Record<number, number> = {
  1: 499,
  2: 500,
  3: 400,
  4: 504,
  5: 404,
  6: 409,
  7: 403,
  8: 429,
  9: 400,
  10: 409,
  11: 400,
  12: 501,
  13: 500,
  14: 503,
  15: 500,
  16: 401,
};

/** One inlined response -> one OpenAI batch output line. */
export function lineFromGemini(item: Json, position: number, context: { batchId: string; model: string; created: number }): Json {
  const metadata = isObject(item.metadata) ? item.metadata : {};
  const customId = typeof metadata.key === 'string' ? metadata.key : `line-${position + 1}`;
  const id = batchRequestId(context.batchId, customId);
  if (isObject(item.response)) {
    const response = item.response;
    const responseId = typeof response.responseId === 'string' && response.responseId !== '' ? response.responseId : null;
    // The model asked for, as on the chat path (modelVersion may carry a version suffix).
    const body = geminiResponseToChat(response, {
      id: `chatcmpl-${responseId ?? id.slice('batch_req_'.length)}`,
      model: context.model,
      created: context.created,
    });
    return { id, custom_id: customId, response: { status_code: 200, request_id: responseId, body }, error: null };
  }
  const error = isObject(item.error) ? item.error : {};
  const code = count(error.code);
  const status = code >= 100 ? code : (httpOfGrpc[code] ?? 500);
  const message = typeof error.message === 'string' ? error.message : 'The request failed at Gemini';
  const type = status === 429 ? 'rate_limit_error' : status >= 500 ? 'api_error' : 'invalid_request_error';
  return {
    id,
    custom_id: customId,
    response: {
      status_code: status,
      request_id: null,
      body: { error: { message, type, code: typeof error.status === 'string' ? error.status.toLowerCase() : String(status), param: null } },
    },
    error: null,
  };
}
