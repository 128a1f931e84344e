/**
 * Which guardrails run for a call, grouped for the runner: by default every enabled guardrail;
 * a workflow may name a subset. Selections are computed once per distinct subset and reused.
 */
import type { Guardrail } from './guardrail-types.ts';
import { groupByOrder } from './guardrail-runner.ts';
import type { GuardrailSet } from './guardrail-set.ts';

export interface GuardrailSelection {
  /** Version of the guardrails (and workflow) in force: part of a cache key. */
  version: string;
  input: Guardrail[][];
  output: Guardrail[][];
  /** Output guardrails that need the whole answer (json_schema). */
  complete: Guardrail[];
  systemPrompts: Guardrail[];
  /** True when nothing would run: the stages pass the call on untouched. */
  empty: boolean;
}

export function createSelection(guardrails: readonly Guardrail[], version: string): GuardrailSelection {
  const input = groupByOrder(guardrails.filter((guardrail) => guardrail.phases.has('input') && guardrail.check !== undefined));
  const output = groupByOrder(guardrails.filter((guardrail) => guardrail.phases.has('output') && guardrail.check !== undefined));
  const complete = guardrails.filter((guardrail) => guardrail.phases.has('output') && guardrail.checkComplete !== undefined);
  const systemPrompts = [...guardrails.filter((guardrail) => guardrail.systemPrompt !== undefined)].sort(
    (left, right) => left.order - right.order,
  );
  const empty = input.length === 0 && output.length === 0 && complete.length === 0 && systemPrompts.length === 0;
  return { version, input, output, complete, systemPrompts, empty };
}

/** A selection of `set` by guardrail names (unknown names are skipped), memoized per set. */
export function createSelector(set: GuardrailSet) {
  const all = createSelection(set.all, set.version);
  const memo = new Map<string, GuardrailSelection>();
  return {
    all,
    named(names: readonly string[], version: string): GuardrailSelection {
      const key = `${version}\u0000${names.join('\u0000')}`;
      let selection = memo.get(key);
      if (!selection) {
        const chosen = names.map((name) => set.byName.get(name)).filter((guardrail): guardrail is Guardrail => guardrail !== undefined);
        selection = createSelection(chosen, version);
        if (memo.size > 1000) memo.clear();
        memo.set(key, selection);
      }
      return selection;
    },
  };
}
