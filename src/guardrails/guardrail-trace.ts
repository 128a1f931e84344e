/**
 * Guardrail decisions of a call, kept in its trace: the `x-modelgate-guardrails` header and the audit record
 * read them; the decision metrics also read which guardrails checked the call (those without an event allowed it).
 */
import type { CallTrace } from '../pipeline/model-call.ts';
import { guardrailsHeader } from './guardrail-error.ts';
import type { Guardrail, GuardrailEvent, GuardrailPhase } from './guardrail-types.ts';

/** Actions named in the header (a block is named in its error response instead). */
const reported = new Set(['flag', 'mask', 'modify']);

export function recordEvents(trace: CallTrace, events: readonly GuardrailEvent[]): void {
  if (events.length === 0) return;
  trace.guardrails ??= [];
  const records = trace.guardrails;
  records.push(...events);
  const named = records.filter((record) => reported.has(record.action)).map((record) => `${record.name}:${record.action}`);
  if (named.length > 0) trace.headers[guardrailsHeader] = [...new Set(named)].join(', ');
}

/** Notes that these guardrails checked the call in this phase (`phase:name`, once each). */
export function recordChecks(trace: CallTrace, phase: GuardrailPhase, guardrails: readonly Guardrail[]): void {
  if (guardrails.length === 0) return;
  trace.guardrailChecks ??= new Set();
  for (const guardrail of guardrails) trace.guardrailChecks.add(`${phase}:${guardrail.name}`);
}
