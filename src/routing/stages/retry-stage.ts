/**
 * Retries one target on retryable errors (GatewayError.retryable: 429, 5xx, timeouts, connection
 * failures) with exponential backoff and jitter, GoModel's settings: RETRY_MAX_RETRIES (3),
 * RETRY_INITIAL_BACKOFF (1s), RETRY_MAX_BACKOFF (30s), RETRY_BACKOFF_FACTOR (2), RETRY_JITTER_FACTOR (0.1).
 * The upstream's own wait (`retry-after-ms`, `Retry-After`, `x-ratelimit-reset-*`) replaces the backoff
 * when it is at most RETRY_MAX_BACKOFF; a longer one is not waited for (the error goes up, so a
 * fallback can take over). Every retry starts before the request's total deadline (RETRY_TOTAL_TIMEOUT from its arrival),
 * and is cut when the deadline passes before it has an answer (src/routing/attempt-deadline.ts).
 * A stream is returned only once it has sent content (src/routing/stream-start.ts): a stream that fails
 * before is retried too; once content went to the client nothing is retried.
 *
 * The path without failures is one `await`: no closure, no timer, nothing copied.
 */
import { type GatewayError, toGatewayError } from '../../core/errors.ts';
import type { ModelCall } from '../../pipeline/model-call.ts';
import type { Next, Stage } from '../../pipeline/stage.ts';
import type { ProviderResult } from '../../providers/types.ts';
import { attemptBeforeDeadline, attemptOnce } from '../attempt-deadline.ts';
import type { Clock } from '../clock.ts';
import type { RetrySettings } from '../resilience-config.ts';
import { retryAfterMs } from '../retry-after.ts';

export interface RetryObserver {
  /** Called before each retry with the wait chosen and the error retried. */
  onRetry?(call: ModelCall, delayMs: number, error: GatewayError): void;
}

/** Backoff before retry number `retry` (1-based), jitter included. */
export function backoffMs(settings: RetrySettings, retry: number, random: number): number {
  const base = Math.min(settings.initialBackoffMs * settings.backoffFactor ** (retry - 1), settings.maxBackoffMs);
  return Math.max(0, Math.round(base * (1 + settings.jitterFactor * (2 * random - 1))));
}

/** The wait before a retry, or undefined when the error must not be retried here. */
export function retryDelay(settings: RetrySettings, retry: number, error: GatewayError, clock: Clock): number | undefined {
  const asked = retryAfterMs(error.headers);
  if (asked === undefined) return backoffMs(settings, retry, clock.random());
  return asked > settings.maxBackoffMs ? undefined : Math.ceil(asked);
}

export function createRetryStage(settings: RetrySettings, clock: Clock, observer: RetryObserver = {}): Stage {
  async function retryAfterFailure(call: ModelCall, next: Next, firstError: unknown): Promise<ProviderResult> {
    const dropped = call.context.droppedParams.length;
    const deadline = call.request.startedAt + settings.totalTimeoutMs;
    let error = firstError;
    for (let retry = 1; ; retry++) {
      const gatewayError = toGatewayError(error);
      if (!gatewayError.retryable || retry > settings.maxRetries || call.context.signal.aborted) throw error;
      const delay = retryDelay(settings, retry, gatewayError, clock);
      if (delay === undefined || clock.now() + delay >= deadline) throw error;
      observer.onRetry?.(call, delay, gatewayError);
      try {
        await clock.sleep(delay, call.context.signal);
      } catch {
        throw error;
      }
      call.context.droppedParams.length = dropped;
      try {
        const result = await attemptBeforeDeadline(call, next, {
          streamStartTimeoutMs: settings.streamStartTimeoutMs,
          totalTimeoutMs: settings.totalTimeoutMs,
          clock,
        });
        call.trace.headers['x-modelgate-attempts'] = String(call.trace.attempts.length);
        return result;
      } catch (failure) {
        error = failure;
      }
    }
  }

  return {
    name: 'retry',
    handle(call, next) {
      return attemptOnce(call, next, settings.streamStartTimeoutMs).catch((error: unknown) => retryAfterFailure(call, next, error));
    },
  };
}
