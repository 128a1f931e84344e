/**
 * How an `llm` guardrail calls its model: through the gateway's own providers (their keys, key pools
 * and upstream limits), resolving `provider/model` or a bare id; not through the pipeline, so the
 * guardrails themselves never run on a guardrail's call.
 *
 * Each such model call is one CallOutcome of its own on the bus, with endpoint `guardrail`: the usage
 * recorder makes it a usage row (tokens, cost at the guardrail model's price) attributed to the calling
 * key (and its owner) with the calling request's id, the audit log an entry (path `guardrail/<name>`),
 * /metrics counts it. The calling call's workflow switches (usage, audit) apply to it too.
 */
import { randomUUID } from 'node:crypto';
import { toGatewayError } from '../core/errors.ts';
import type { ModelRegistry } from '../core/model-registry.ts';
import type { CallOutcome, OutcomeBus } from '../core/outcome.ts';
import { workflowOfOutcome } from '../pipeline/call-policy.ts';
import type { ProviderResult } from '../providers/types.ts';
import type { CompleteText, CompletionOrigin } from './llm-guardrail.ts';

function outcomeOf(
  origin: CompletionOrigin,
  fields: Pick<CallOutcome, 'provider' | 'providerType' | 'requestedModel' | 'model' | 'status' | 'usage' | 'error'>,
  startedAt: Date,
  started: number,
): CallOutcome {
  const { request, trace } = origin.call;
  const outcome: CallOutcome = {
    requestId: request.requestId,
    endpoint: 'guardrail',
    ...fields,
    stream: false,
    startedAt,
    latencyMs: performance.now() - started,
    firstByteMs: null,
    keyId: request.keyId,
    cacheStatus: 'none',
    droppedParams: [],
    attempts: [],
    method: 'POST',
    path: `guardrail/${origin.guardrail}`,
  };
  const policy = trace.policy;
  if (policy) outcome.workflow = workflowOfOutcome(policy);
  return outcome;
}

export function createModelCompleter(registry: ModelRegistry, bus?: OutcomeBus): CompleteText {
  return async (model, messages, signal, origin) => {
    const target = await registry.resolve(model);
    if (!target) throw new Error(`model '${model}' is not served by any provider`);
    const startedAt = new Date();
    const started = performance.now();
    const record = (fields: Pick<CallOutcome, 'status' | 'usage' | 'error'>) => {
      if (!bus || !origin) return;
      const served = { provider: target.provider.name, providerType: target.provider.type, requestedModel: model, model: target.model };
      bus.emit(outcomeOf(origin, { ...served, ...fields }, startedAt, started));
    };
    let result: ProviderResult;
    try {
      result = await target.provider.chatCompletions(
        { model: target.model, messages, stream: false },
        { requestId: `guardrail-${randomUUID()}`, signal, droppedParams: [] },
      );
    } catch (error) {
      const gatewayError = toGatewayError(error);
      const status = !signal.aborted ? gatewayError.status : (signal.reason as Error | undefined)?.name === 'TimeoutError' ? 504 : 499;
      record({ status, usage: null, error: { code: gatewayError.code, message: gatewayError.message } });
      throw error;
    }
    if (result.kind !== 'json') {
      record({ status: 502, usage: null, error: { code: 'upstream_invalid_response', message: 'expected a JSON answer' } });
      throw new Error('expected a JSON answer');
    }
    record({ status: result.status, usage: result.usage, error: null });
    const choices = result.body.choices as { message?: { content?: unknown } }[] | undefined;
    const content = choices?.[0]?.message?.content;
    if (typeof content !== 'string') throw new Error('the answer has no text');
    return content;
  };
}
