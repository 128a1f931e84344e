/**
 * The `guardrails-input` stage: runs the input guardrails on the request's text before anything else
 * sees it (cache, limits, routing), then applies system prompts (input-guard.ts). A block answers 400
 * `guardrail_blocked`; masks and rewrites go upstream instead of the original text; flags and masks
 * are reported in `x-modelgate-guardrails` and the audit record. Reversible PII placeholders are
 * restored in the answer on its way back (after the cache, which stores the answer as the upstream gave it).
 */
import { policyVersionOf } from '../pipeline/call-policy.ts';
import type { ModelCall } from '../pipeline/model-call.ts';
import type { Stage } from '../pipeline/stage.ts';
import type { GuardrailSelection } from './guardrail-selection.ts';
import { guardInput } from './input-guard.ts';
import { restorePlaceholders } from './placeholder-restore.ts';
import { requestShape } from './request-text.ts';

export function createGuardrailsInputStage(select: (call: ModelCall) => GuardrailSelection | null): Stage {
  return {
    name: 'guardrails-input',
    async handle(call, next) {
      const selection = select(call);
      const shape = requestShape(call.endpoint);
      if (!selection || selection.empty || !shape) return next(call);
      call.trace.policyVersion = policyVersionOf(selection.version, call.trace.policy);
      const placeholders = new Map<string, string>();
      const body = await guardInput(selection, call, shape, call.body, placeholders);
      const result = await next(body === call.body ? call : { ...call, body });
      return placeholders.size === 0 ? result : restorePlaceholders(result, placeholders);
    },
  };
}
