/**
 * How an `llm` guardrail calls its model: through the gateway's own providers (their keys, key pools
 * and upstream limits), resolving `provider/model` or a bare id; not through the pipeline, so the
 * guardrails themselves never run on a guardrail's call.
 */
import { randomUUID } from 'node:crypto';
import type { ModelRegistry } from '../core/model-registry.ts';
import type { CompleteText } from './llm-guardrail.ts';

export function createModelCompleter(registry: ModelRegistry): CompleteText {
  return async (model, messages, signal) => {
    const target = await registry.resolve(model);
    if (!target) throw new Error(`model '${model}' is not served by any provider`);
    const result = await target.provider.chatCompletions(
      { model: target.model, messages, stream: false },
      { requestId: `guardrail-${randomUUID()}`, signal, droppedParams: [] },
    );
    if (result.kind !== 'json') throw new Error('expected a JSON answer');
    const choices = result.body.choices as { message?: { content?: unknown } }[] | undefined;
    const content = choices?.[0]?.message?.content;
    if (typeof content !== 'string') throw new Error('the answer has no text');
    return content;
  };
}
