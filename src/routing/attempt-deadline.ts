/**
 * The request's total deadline (RETRY_TOTAL_TIMEOUT from its arrival) cuts a retry or fallback attempt
 * that is still in flight when it passes: the attempt's upstream call is aborted and the call fails with
 * `504 request_deadline_exceeded`, instead of running on until the upstream timeouts. The deadline covers
 * an attempt until it has an answer: a JSON body, or a stream's first content (src/routing/stream-start.ts);
 * a stream that has started is the answer and runs to its end. The first attempt is not cut (it is bounded
 * by UPSTREAM_TOTAL_TIMEOUT): a long single answer is legitimate, the deadline is about time spent failing.
 *
 * Costs nothing on the path without failures: the timer and signal exist only for retries and fallbacks.
 * `attemptOnce` (one call of `next`, a stream held until its first content) is the attempt of both stages.
 */
import { GatewayError } from '../core/errors.ts';
import type { ModelCall } from '../pipeline/model-call.ts';
import type { Next } from '../pipeline/stage.ts';
import type { ProviderResult } from '../providers/types.ts';
import type { Clock } from './clock.ts';
import { awaitStreamStart } from './stream-start.ts';

/**
 * Calls `next` once; a stream is held until its first content. A stream that never starts is torn down
 * upstream through its own `abort` (no extra signal or controller per call).
 */
export async function attemptOnce(call: ModelCall, next: Next, streamStartTimeoutMs: number): Promise<ProviderResult> {
  const attemptIndex = call.trace.attempts.length;
  const result = await next(call);
  return result.kind === 'json' ? result : awaitStreamStart(result, streamStartTimeoutMs, call.trace, attemptIndex);
}

export function deadlineExceeded(totalTimeoutMs: number): GatewayError {
  return new GatewayError(
    `The request passed its total deadline of ${totalTimeoutMs} ms (RETRY_TOTAL_TIMEOUT) while retrying or falling back`,
    {
      status: 504,
      code: 'request_deadline_exceeded',
      type: 'timeout_error',
      retryable: false,
    },
  );
}

/** One retry or fallback attempt, aborted when the request's deadline passes before it has an answer. */
export async function attemptBeforeDeadline(
  call: ModelCall,
  next: Next,
  options: { streamStartTimeoutMs: number; totalTimeoutMs: number; clock: Clock },
): Promise<ProviderResult> {
  const remaining = call.request.startedAt + options.totalTimeoutMs - options.clock.now();
  if (remaining <= 0) throw deadlineExceeded(options.totalTimeoutMs);
  const controller = new AbortController();
  const client = call.context.signal;
  // The client leaving still cancels the attempt, and the stream it returns, for as long as it runs.
  const onClientAbort = () => controller.abort(client.reason);
  if (client.aborted) controller.abort(client.reason);
  else client.addEventListener('abort', onClientAbort, { once: true });
  const timer = setTimeout(() => controller.abort(deadlineExceeded(options.totalTimeoutMs)), remaining);
  const attempt: ModelCall = { ...call, context: { ...call.context, signal: controller.signal } };
  try {
    return await attemptOnce(attempt, next, options.streamStartTimeoutMs);
  } catch (error) {
    client.removeEventListener('abort', onClientAbort);
    throw controller.signal.aborted && controller.signal.reason instanceof GatewayError && !client.aborted
      ? controller.signal.reason
      : error;
  } finally {
    clearTimeout(timer);
  }
}
