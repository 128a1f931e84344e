/** Compiles one guardrail definition (config.yaml or the admin API) into a runnable guardrail. */
import { allowedPhases, type GuardrailDefinition } from './guardrails-config.ts';
import type { Guardrail, GuardrailPhase } from './guardrail-types.ts';
import { type CompleteText, createLlmGuardrail } from './llm-guardrail.ts';
import { createWebhookGuardrail } from './webhook-guardrail.ts';
import { createJsonSchemaGuardrail } from './json-schema-guardrail.ts';
import { createMaxInputGuardrail } from './max-input-guardrail.ts';
import { createPatternGuardrail, denylistPattern } from './pattern-guardrail.ts';
import { createPiiGuardrail } from './pii-guardrail.ts';

export class GuardrailDefinitionError extends Error {}

function phasesOf(definition: GuardrailDefinition): ReadonlySet<GuardrailPhase> {
  const allowed = allowedPhases[definition.type];
  const asked = definition.phase;
  const phases: GuardrailPhase[] = asked === undefined ? [allowed[0] as GuardrailPhase] : asked === 'both' ? ['input', 'output'] : [asked];
  for (const phase of phases) {
    if (!allowed.includes(phase)) {
      throw new GuardrailDefinitionError(`guardrail '${definition.name}': type ${definition.type} runs only on ${allowed.join(' and ')}`);
    }
  }
  return new Set(phases);
}

/** What guardrails need from the gateway (only llm guardrails need anything). */
export interface GuardrailDependencies {
  complete?: CompleteText;
}

export function createGuardrail(definition: GuardrailDefinition, dependencies: GuardrailDependencies = {}): Guardrail {
  const phases = phasesOf(definition);
  const base = { name: definition.name, order: definition.order, phases };
  switch (definition.type) {
    case 'system_prompt':
      return { ...base, type: 'system_prompt', systemPrompt: { mode: definition.mode, content: definition.content } };
    case 'max_input':
      return createMaxInputGuardrail({ ...base, maxCharacters: definition.max_characters, maxTokens: definition.max_tokens });
    case 'regex':
      return createPatternGuardrail({
        ...base,
        type: 'regex',
        patterns: definition.patterns.map((pattern) => new RegExp(pattern, `${definition.flags}g`)),
        action: definition.action,
        replacement: definition.replacement,
      });
    case 'denylist':
      return createPatternGuardrail({
        ...base,
        type: 'denylist',
        patterns: [denylistPattern(definition.words, definition.case_sensitive, definition.whole_words)],
        action: definition.action,
        replacement: definition.replacement,
      });
    case 'json_schema':
      return createJsonSchemaGuardrail({ ...base, schema: definition.schema });
    case 'webhook':
      return createWebhookGuardrail({
        ...base,
        url: definition.url,
        headers: definition.headers,
        timeoutMs: definition.timeout_ms,
        failMode: definition.fail_mode,
      });
    case 'llm': {
      const complete = dependencies.complete;
      if (!complete) throw new GuardrailDefinitionError(`guardrail '${definition.name}': no model access to run an llm guardrail`);
      return createLlmGuardrail({
        ...base,
        model: definition.model,
        mode: definition.mode,
        prompt: definition.prompt,
        timeoutMs: definition.timeout_ms,
        failMode: definition.fail_mode,
        complete,
      });
    }
    case 'pii':
      return createPiiGuardrail({ ...base, entities: definition.entities, action: definition.action, reversible: definition.reversible });
  }
}
