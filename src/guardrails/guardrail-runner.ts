/**
 * Runs guardrails over text segments: guardrails with the same `order` run in parallel, groups of
 * different orders one after the other, lowest first, each group seeing the text the previous one
 * left. In a group, remote checks (webhook, llm) start together on the group's text; local checks
 * (regex, denylist, pii, max_input) take no time and are applied in listed order, so several masks
 * combine. The first listed block of a group wins. When a group has remote checks, its rewrites are
 * applied in listed order over the group's text (for one text, the last rewrite wins).
 * A guardrail that fails unexpectedly blocks the call (fail closed); webhook and llm guardrails
 * decide themselves what a failure means (their `fail_mode`).
 */
import type { CheckContext, Guardrail, GuardrailDecision, GuardrailEvent, TextSegment } from './guardrail-types.ts';

export interface RunOutcome {
  /** The rewritten texts, or null when no guardrail changed any. */
  texts: string[] | null;
  events: GuardrailEvent[];
  blocked: { name: string; reason: string } | null;
  /** Every guardrail that decided (the groups up to and including a blocking one), for the decision metrics. */
  ran: Guardrail[];
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

/** A guardrail's decision, at once for local checks, as a promise for remote ones; never rejects. */
function decide(
  guardrail: Guardrail,
  segments: readonly TextSegment[],
  context: CheckContext,
): GuardrailDecision | Promise<GuardrailDecision> {
  const failed: GuardrailDecision = { action: 'block', reason: 'the guardrail failed' };
  try {
    const decision = guardrail.check?.(segments, context) ?? { action: 'allow' };
    return decision instanceof Promise ? decision.catch(() => failed) : decision;
  } catch {
    return failed;
  }
}

function rewrite(segments: readonly TextSegment[], texts: readonly string[]): TextSegment[] {
  return segments.map((segment, position) => {
    const text = texts[position];
    return text === undefined || text === segment.text ? segment : { ...segment, text };
  });
}

export async function runGuardrails(
  groups: readonly Guardrail[][],
  input: readonly TextSegment[],
  context: CheckContext,
): Promise<RunOutcome> {
  let segments = input;
  const events: GuardrailEvent[] = [];
  const ran: Guardrail[] = [];
  for (const group of groups) {
    ran.push(...group);
    const groupInput = segments;
    const decided: (GuardrailDecision | undefined)[] = [];
    const pending: Promise<void>[] = [];
    // Remote checks (webhook, llm) of the group start together on the group's text; local checks
    // take no time and are applied in listed order, each seeing the previous one's mask.
    group.forEach((guardrail, index) => {
      const decision = decide(guardrail, pending.length === 0 ? segments : groupInput, context);
      if (decision instanceof Promise) {
        pending.push(
          decision.then((value) => {
            decided[index] = value;
          }),
        );
      } else {
        decided[index] = decision;
        if ((decision.action === 'mask' || decision.action === 'modify') && pending.length === 0)
          segments = rewrite(segments, decision.texts);
      }
    });
    if (pending.length > 0) await Promise.all(pending);
    let blocked: RunOutcome['blocked'] = null;
    for (let index = 0; index < group.length; index++) {
      const guardrail = group[index] as Guardrail;
      const decision = decided[index] as GuardrailDecision;
      if (decision.action === 'allow') continue;
      events.push({ name: guardrail.name, type: guardrail.type, phase: context.phase, action: decision.action, reason: decision.reason });
      if (decision.action === 'block') {
        blocked = { name: guardrail.name, reason: decision.reason };
        break;
      }
    }
    if (blocked) return { texts: null, events, blocked, ran };
    if (pending.length > 0) {
      // Once a remote check is involved, every rewrite of the group is applied in listed order (the last wins per text).
      segments = groupInput;
      for (const decision of decided) {
        if (decision && (decision.action === 'mask' || decision.action === 'modify')) segments = rewrite(segments, decision.texts);
      }
    }
  }
  return { texts: segments === input ? null : segments.map((segment) => segment.text), events, blocked: null, ran };
}
