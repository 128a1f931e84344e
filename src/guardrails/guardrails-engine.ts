/**
 * The guardrails of a gateway: the definitions from config.yaml and those the admin API stored,
 * compiled into a set; replaced as a whole when the stored ones change (on every replica).
 */
import type { GuardrailDependencies } from './create-guardrail.ts';
import type { GuardrailDefinition } from './guardrails-config.ts';
import { createGuardrailSet, type GuardrailSet } from './guardrail-set.ts';
import { createSelector } from './guardrail-selection.ts';

export interface GuardrailsEngine {
  set(): GuardrailSet;
  selector(): ReturnType<typeof createSelector>;
  /** Replaces the stored definitions (config.yaml's stay; a stored one of the same name wins). */
  replaceStored(definitions: readonly GuardrailDefinition[]): void;
  definitions(): { configured: readonly GuardrailDefinition[]; stored: readonly GuardrailDefinition[] };
}

export function createGuardrailsEngine(
  configured: readonly GuardrailDefinition[],
  dependencies: GuardrailDependencies = {},
): GuardrailsEngine {
  let stored: readonly GuardrailDefinition[] = [];
  let set = createGuardrailSet(configured, dependencies);
  let selector = createSelector(set);
  return {
    set: () => set,
    selector: () => selector,
    replaceStored(definitions) {
      const names = new Set(definitions.map((definition) => definition.name));
      const next = createGuardrailSet([...configured.filter((definition) => !names.has(definition.name)), ...definitions], dependencies);
      stored = definitions;
      set = next;
      selector = createSelector(next);
    },
    definitions: () => ({ configured, stored }),
  };
}
