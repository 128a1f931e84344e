/**
 * The `guardrails-input` stage: runs the input guardrails on the request's text before anything else
 * sees it (cache, limits, routing), then applies system prompts. A block answers 400
 * `guardrail_blocked`; masks and rewrites go upstream instead of the original text; flags and masks
 * are reported in `x-modelgate-guardrails` and the audit record. Reversible PII placeholders are
 * restored in the answer on its way back (after the cache, which stores the answer as the upstream gave it).
 */
import { policyVersionOf } from '../pipeline/call-policy.ts';
import type { ModelCall } from '../pipeline/model-call.ts';
import type { Stage } from '../pipeline/stage.ts';
import { guardrailBlocked } from './guardrail-error.ts';
import { runGuardrails } from './guardrail-runner.ts';
import type { Guardrail, GuardrailEvent } from './guardrail-types.ts';
import { restorePlaceholders } from './placeholder-restore.ts';
import { applySystemPrompt, readSegments, requestShape, writeSegments } from './request-text.ts';
import { recordChecks, recordEvents } from './guardrail-trace.ts';
import type { GuardrailSelection } from './guardrail-selection.ts';

export function createGuardrailsInputStage(select: (call: ModelCall) => GuardrailSelection | null): Stage {
  return {
    name: 'guardrails-input',
    async handle(call, next) {
      const selection = select(call);
      const shape = requestShape(call.endpoint);
      if (!selection || selection.empty || !shape) return next(call);
      call.trace.policyVersion = policyVersionOf(selection.version, call.trace.policy);
      const placeholders = new Map<string, string>();
      const context = { call, phase: 'input' as const, placeholders, signal: call.context.signal };
      let body = call.body;
      if (selection.input.length > 0) {
        const outcome = await runGuardrails(selection.input, readSegments(shape, body), context);
        recordEvents(call.trace, outcome.events);
        recordChecks(call.trace, 'input', outcome.ran);
        if (outcome.blocked) throw guardrailBlocked(outcome.blocked.name, outcome.blocked.reason, 'input');
        if (outcome.texts) body = writeSegments(shape, body, outcome.texts);
      }
      if (selection.systemPrompts.length > 0) {
        if (body === call.body) body = structuredClone(body);
        const events: GuardrailEvent[] = [];
        for (const guardrail of selection.systemPrompts) {
          const prompt = (guardrail as Required<Pick<Guardrail, 'systemPrompt'>>).systemPrompt;
          applySystemPrompt(shape, body, prompt.mode, prompt.content);
          events.push({ name: guardrail.name, type: guardrail.type, phase: 'input', action: 'system_prompt' });
        }
        recordEvents(call.trace, events);
      }
      const result = await next(body === call.body ? call : { ...call, body });
      return placeholders.size === 0 ? result : restorePlaceholders(result, placeholders);
    },
  };
}
