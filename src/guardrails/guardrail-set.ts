/**
 * The guardrails in force: compiled once per change of definitions (config.yaml plus what the admin
 * API stored), grouped by phase and order, with a version string that changes when any definition does.
 */
import { createHash } from 'node:crypto';
import { createGuardrail, type GuardrailDependencies } from './create-guardrail.ts';
import type { GuardrailDefinition } from './guardrails-config.ts';
import type { Guardrail } from './guardrail-types.ts';

export interface GuardrailSet {
  /** Short hash of the definitions in force. */
  version: string;
  all: readonly Guardrail[];
  byName: ReadonlyMap<string, Guardrail>;
}

export function createGuardrailSet(definitions: readonly GuardrailDefinition[], dependencies: GuardrailDependencies = {}): GuardrailSet {
  const enabled = definitions.filter((definition) => definition.enabled);
  const all = enabled.map((definition) => createGuardrail(definition, dependencies));
  const version = createHash('sha256').update(JSON.stringify(enabled)).digest('hex').slice(0, 12);
  return { version, all, byName: new Map(all.map((guardrail) => [guardrail.name, guardrail])) };
}
