/**
 * Runs guardrails over text segments: guardrails with the same `order` run in parallel (all see the
 * same text), groups of different orders run one after the other, lowest first, each group seeing
 * the text the previous one left. In a group, a block wins (the first listed); rewrites of one
 * segment by several guardrails of a group: the last listed wins (give such guardrails different orders).
 * A guardrail that fails unexpectedly blocks the call (fail closed); webhook and llm guardrails
 * decide themselves what a failure means (their `fail_mode`).
 */
import type { CheckContext, Guardrail, GuardrailDecision, GuardrailEvent, TextSegment } from './guardrail-types.ts';

export interface RunOutcome {
  /** The rewritten texts, or null when no guardrail changed any. */
  texts: string[] | null;
  events: GuardrailEvent[];
  blocked: { name: string; reason: string } | null;
}

/** Guardrails grouped by order, lowest first; each group keeps the order the guardrails were listed in. */
export function groupByOrder(guardrails: readonly Guardrail[]): Guardrail[][] {
  const groups = new Map<number, Guardrail[]>();
  for (const guardrail of guardrails) {
    const group = groups.get(guardrail.order);
    if (group) group.push(guardrail);
    else groups.set(guardrail.order, [guardrail]);
  }
  return [...groups.entries()].sort(([left], [right]) => left - right).map(([, group]) => group);
}

async function decide(guardrail: Guardrail, segments: readonly TextSegment[], context: CheckContext): Promise<GuardrailDecision> {
  try {
    return (await guardrail.check?.(segments, context)) ?? { action: 'allow' };
  } catch {
    return { action: 'block', reason: 'the guardrail failed' };
  }
}

export async function runGuardrails(groups: readonly Guardrail[][], input: readonly TextSegment[], context: CheckContext): Promise<RunOutcome> {
  let segments = input;
  let changed = false;
  const events: GuardrailEvent[] = [];
  for (const group of groups) {
    const decisions =
      group.length === 1
        ? [await decide(group[0] as Guardrail, segments, context)]
        : await Promise.all(group.map((guardrail) => decide(guardrail, segments, context)));
    let next: TextSegment[] | null = null;
    for (let index = 0; index < group.length; index++) {
      const guardrail = group[index] as Guardrail;
      const decision = decisions[index] as GuardrailDecision;
      if (decision.action === 'allow') continue;
      const event: GuardrailEvent = { name: guardrail.name, type: guardrail.type, phase: context.phase, action: decision.action, reason: decision.reason };
      events.push(event);
      if (decision.action === 'block') return { texts: null, events, blocked: { name: guardrail.name, reason: decision.reason } };
      if (decision.action === 'mask' || decision.action === 'modify') {
        next ??= segments.map((segment) => ({ ...segment }));
        for (let position = 0; position < next.length; position++) {
          const text = decision.texts[position];
          if (text !== undefined && text !== (segments[position] as TextSegment).text) (next[position] as TextSegment).text = text;
        }
      }
    }
    if (next) {
      segments = next;
      changed = true;
    }
  }
  return { texts: changed ? segments.map((segment) => segment.text) : null, events, blocked: null };
}
