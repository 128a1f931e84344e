/**
 * Tries an ordered list of models when the requested one fails before any content reached the
 * client: the list comes from the `x-modelgate-fallbacks` request header (comma-separated), else from
 * the fallback lists (config and admin API) of the requested model (after alias rewriting) or of the
 * model the client named. Triggers: 429, 5xx, timeouts, connection errors, an open circuit, a model
 * not found or unavailable, and a context-length error (the list should then name a model with a
 * larger context). A stream counts as failed until its first content (src/routing/stream-start.ts),
 * so a stream cut before it falls back; after it, the failure reaches the client as an error event.
 * Sets `x-modelgate-fallback: <from> -> <to>` and `x-modelgate-attempts` on the reply.
 */
import { type GatewayError, invalidRequest, toGatewayError } from '../../core/errors.ts';
import { headerValue } from '../../http/types.ts';
import type { ModelCall } from '../../pipeline/model-call.ts';
import type { Next, Stage } from '../../pipeline/stage.ts';
import type { ProviderResult } from '../../providers/types.ts';
import type { Clock } from '../clock.ts';
import type { FallbackLists } from '../fallback-store.ts';
import { attemptBeforeDeadline, attemptOnce } from '../attempt-deadline.ts';

export const fallbacksHeader = 'x-modelgate-fallbacks';
const maxHeaderFallbacks = 8;

const contextLengthPattern =
  /context[_ ]length|context window|maximum context|prompt is too long|too many tokens|input token count .* exceeds|exceeds the (?:maximum|model's) (?:number of )?(?:input )?tokens/i;

export function isContextLengthError(error: GatewayError): boolean {
  return error.code === 'context_length_exceeded' || (error.status === 400 && contextLengthPattern.test(error.message));
}

/** Whether a failed attempt should move on to the next model. */
export function triggersFallback(error: GatewayError): boolean {
  if (error.status === 499) return false;
  if (error.status === 429 || error.status >= 500 || error.status === 408) return true;
  if (error.status === 404 && (error.code === 'model_not_found' || error.param === 'model' || /\bmodel\b/i.test(error.message))) return true;
  if (error.code === 'model_not_available' || error.code === 'model_disabled') return true;
  return isContextLengthError(error);
}

/** The fallbacks a client asked for in the header, validated. */
export function headerFallbacks(call: ModelCall): string[] | undefined {
  const raw = headerValue(call.request.headers, fallbacksHeader);
  if (raw === undefined) return undefined;
  const models = raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  if (models.length > maxHeaderFallbacks || models.some((model) => model.length > 256 || /\s/.test(model))) {
    throw invalidRequest(`${fallbacksHeader} takes at most ${maxHeaderFallbacks} comma-separated model names`, fallbacksHeader, 'invalid_fallbacks');
  }
  return models;
}

export interface FallbackObserver {
  onFallback?(call: ModelCall, from: string, to: string, error: GatewayError): void;
}

export interface FallbackStageOptions {
  lists: FallbackLists;
  clock: Clock;
  /** Deadline of all attempts of a request, from its arrival. */
  totalTimeoutMs: number;
  streamStartTimeoutMs: number;
  observer?: FallbackObserver;
}

export function createFallbackStage(options: FallbackStageOptions): Stage {
  const { lists, clock } = options;

  function chainFor(call: ModelCall): string[] | undefined {
    const fromHeader = headerFallbacks(call);
    if (fromHeader !== undefined) return fromHeader;
    if (lists.empty()) return undefined;
    const named = call.body.model;
    const list = lists.lookup(call.requestedModel) ?? (typeof named === 'string' ? lists.lookup(named) : undefined);
    return list ? [...list] : undefined;
  }

  async function withFallbacks(call: ModelCall, next: Next, fallbacks: string[]): Promise<ProviderResult> {
    const first = call.requestedModel;
    const chain = [first, ...fallbacks.filter((model, index) => model !== first && fallbacks.indexOf(model) === index)];
    const deadline = call.request.startedAt + options.totalTimeoutMs;
    const dropped = call.context.droppedParams.length;
    for (let index = 0; ; index++) {
      const model = chain[index] as string;
      const attempt = index === 0 ? call : { ...call, requestedModel: model, target: null };
      try {
        // The first model as any call; each fallback within the request's deadline (src/routing/attempt-deadline.ts).
        const result =
          index === 0
            ? await attemptOnce(attempt, next, options.streamStartTimeoutMs)
            : await attemptBeforeDeadline(attempt, next, { ...options, clock });
        call.trace.headers['x-modelgate-attempts'] = String(call.trace.attempts.length);
        if (index > 0) call.trace.headers['x-modelgate-fallback'] = `${first} -> ${model}`;
        return result;
      } catch (error) {
        const gatewayError = toGatewayError(error);
        const last = index === chain.length - 1;
        if (last || !triggersFallback(gatewayError) || call.context.signal.aborted || clock.now() >= deadline) throw error;
        options.observer?.onFallback?.(call, model, chain[index + 1] as string, gatewayError);
        call.context.droppedParams.length = dropped;
      }
    }
  }

  return {
    name: 'fallback',
    handle(call, next) {
      // A workflow switched fallback off for this call: the requested model only.
      if (call.trace.policy?.fallback === false) return next(call);
      const fallbacks = chainFor(call);
      if (fallbacks === undefined || fallbacks.length === 0) return next(call);
      return withFallbacks(call, next, fallbacks);
    },
  };
}
