/**
 * The input guardrails applied to one request body: checks (a block throws `guardrail_blocked`), masks and
 * rewrites, then system prompts. Used by the `guardrails-input` stage and for batch lines
 * (ENABLE_GUARDRAILS_FOR_BATCH_PROCESSING). Decisions go to the call's trace (header, audit, metrics).
 */
import type { ModelCall } from '../pipeline/model-call.ts';
import type { Json } from '../providers/types.ts';
import { guardrailBlocked } from './guardrail-error.ts';
import { runGuardrails } from './guardrail-runner.ts';
import type { GuardrailSelection } from './guardrail-selection.ts';
import { recordChecks, recordEvents } from './guardrail-trace.ts';
import type { Guardrail, GuardrailEvent } from './guardrail-types.ts';
import { applySystemPrompt, copyForRewrite, type RequestShape, readSegments, writeSegments } from './request-text.ts';

/** The body as the input guardrails leave it (`body` itself when none changed it). */
export async function guardInput(
  selection: GuardrailSelection,
  call: ModelCall,
  shape: RequestShape,
  body: Json,
  placeholders: Map<string, string>,
): Promise<Json> {
  let result = body;
  if (selection.input.length > 0) {
    const context = { call, phase: 'input' as const, placeholders, signal: call.context.signal };
    const outcome = await runGuardrails(selection.input, readSegments(shape, body), context);
    recordEvents(call.trace, outcome.events);
    recordChecks(call.trace, 'input', outcome.ran);
    if (outcome.blocked) throw guardrailBlocked(outcome.blocked.name, outcome.blocked.reason, 'input');
    if (outcome.texts) result = writeSegments(shape, body, outcome.texts);
  }
  if (selection.systemPrompts.length > 0) {
    if (result === body) result = copyForRewrite(shape, body);
    const events: GuardrailEvent[] = [];
    for (const guardrail of selection.systemPrompts) {
      const prompt = (guardrail as Required<Pick<Guardrail, 'systemPrompt'>>).systemPrompt;
      applySystemPrompt(shape, result, prompt.mode, prompt.content);
      events.push({ name: guardrail.name, type: guardrail.type, phase: 'input', action: 'system_prompt' });
    }
    recordEvents(call.trace, events);
  }
  return result;
}
