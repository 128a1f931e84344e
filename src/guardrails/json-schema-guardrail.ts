/**
 * `json_schema`: the whole answer must be JSON valid against `schema` (JSON Schema, validated with
 * ajv, compiled once when the guardrail is defined). Runs on the output: a JSON answer is checked
 * before it is returned; a stream is checked when it ends (an invalid one ends with an error event).
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { Guardrail, GuardrailDecision, GuardrailPhase } from './guardrail-types.ts';

const ajv = new Ajv({ allErrors: false, strict: false });

/** Compiles a schema, or says why it cannot be. */
export function compileJsonSchema(schema: Record<string, unknown>): ValidateFunction | string {
  try {
    return ajv.compile(schema);
  } catch (error) {
    return error instanceof Error ? error.message : 'invalid schema';
  }
}

export function createJsonSchemaGuardrail(options: {
  name: string;
  order: number;
  phases: ReadonlySet<GuardrailPhase>;
  schema: Record<string, unknown>;
}): Guardrail {
  const validate = compileJsonSchema(options.schema);
  if (typeof validate === 'string') throw new Error(`guardrail '${options.name}': ${validate}`);
  return {
    name: options.name,
    type: 'json_schema',
    order: options.order,
    phases: options.phases,
    checkComplete(text: string): GuardrailDecision {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return { action: 'block', reason: 'the answer is not JSON' };
      }
      if (validate(value)) return { action: 'allow' };
      const first = validate.errors?.[0];
      const where = first?.instancePath ? `${first.instancePath} ` : '';
      return { action: 'block', reason: `the answer does not match the schema (${where}${first?.message ?? 'invalid'})` };
    },
  };
}
