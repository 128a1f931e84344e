/**
 * modelgate_guardrail_decisions_total{guardrail,action,phase}: every guardrail decision, once per call,
 * guardrail and phase (a stream checked chunk by chunk counts once): block, mask, flag, modify or
 * system_prompt as recorded for the audit entry, and allow for a guardrail that checked the call and did
 * not act. Counted from the call's outcome, so every call is counted however it ends. The guardrail label
 * is a name from config.yaml or the admin API (never client text), the first 500 distinct names; later
 * ones are `other`. Actions and phases are fixed sets.
 */
import { Counter } from 'prom-client';
import type { CallOutcome, GuardrailRecord } from '../core/outcome.ts';
import type { CallTrace } from '../pipeline/model-call.ts';
import { createBoundedNameLabels } from '../metrics/metric-labels.ts';

const maxGuardrailLabels = 500;

export interface GuardrailMetrics {
  decisions: Counter<'guardrail' | 'action' | 'phase'>;
  /** Counts the decisions of one call. */
  record(outcome: CallOutcome): void;
  /** Counts the decisions kept in a trace that has no outcome of its own (a batch line). */
  recordTrace(trace: CallTrace): void;
}

export function createGuardrailMetrics(): GuardrailMetrics {
  const decisions = new Counter({
    name: 'modelgate_guardrail_decisions_total',
    help: 'Guardrail decisions by guardrail, action (allow, block, mask, flag, modify, system_prompt) and phase (input, output)',
    labelNames: ['guardrail', 'action', 'phase'] as const,
    registers: [],
  });
  const label = createBoundedNameLabels(maxGuardrailLabels);
  const decision = (guardrail: string, action: string, phase: string) => decisions.inc({ guardrail: label(guardrail), action, phase });
  const count = (events: readonly GuardrailRecord[] | undefined, checks: Iterable<string> | undefined) => {
    const acted = new Set<string>();
    for (const event of events ?? []) {
      acted.add(`${event.phase}:${event.name}`);
      decision(event.name, event.action, event.phase);
    }
    for (const check of checks ?? []) {
      if (acted.has(check)) continue;
      const colon = check.indexOf(':');
      decision(check.slice(colon + 1), 'allow', check.slice(0, colon));
    }
  };
  return {
    decisions,
    record: (outcome) => count(outcome.guardrails, outcome.guardrailChecks),
    recordTrace: (trace) => count(trace.guardrails, trace.guardrailChecks),
  };
}
