/**
 * Guardrail definitions (the `guardrails:` section of config.yaml and the bodies of the admin API),
 * and the switches: GUARDRAILS_ENABLED (default false; the environment wins over `guardrails.enabled`) and
 * ENABLE_GUARDRAILS_FOR_BATCH_PROCESSING (default false; `guardrails.batch_processing`).
 * When guardrails are off no stage is registered, so a call pays nothing for them.
 */
import { z } from 'zod';
import { ConfigError } from '../config/config-error.ts';
import { compileJsonSchema } from './json-schema-guardrail.ts';
import { piiEntityNames } from './pii-detectors.ts';

export const guardrailNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, dot, dash and underscore; at most 64 characters');

const actionSchema = z.enum(['block', 'mask', 'flag']);

const common = {
  name: guardrailNameSchema,
  /** Guardrails with the same order run in parallel; lower orders run first. */
  order: z.number().int().min(-1000).max(1000).default(0),
  /** Where the guardrail runs; each type has a default (see docs/guardrails.md). */
  phase: z.enum(['input', 'output', 'both']).optional(),
  enabled: z.boolean().default(true),
  description: z.string().max(500).optional(),
};

function compiles(pattern: string, flags: string): boolean {
  try {
    new RegExp(pattern, flags);
    return true;
  } catch {
    return false;
  }
}

const systemPromptSchema = z
  .object({
    ...common,
    type: z.literal('system_prompt'),
    mode: z.enum(['inject', 'override', 'decorator']).default('inject'),
    content: z.string().min(1).max(100_000),
  })
  .strict();

const regexSchema = z
  .object({
    ...common,
    type: z.literal('regex'),
    patterns: z.array(z.string().min(1).max(2000)).min(1).max(200),
    /** JavaScript RegExp flags, `g` is implied: i (ignore case), m, s, u. */
    flags: z
      .string()
      .regex(/^[imsu]*$/, 'only the flags i, m, s and u')
      .default(''),
    action: actionSchema.default('block'),
    replacement: z.string().max(200).default('[REDACTED]'),
  })
  .strict()
  .superRefine((value, context) => {
    value.patterns.forEach((pattern, index) => {
      if (!compiles(pattern, `${value.flags}g`))
        context.addIssue({ code: 'custom', path: ['patterns', index], message: 'not a valid regular expression' });
    });
  });

const denylistSchema = z
  .object({
    ...common,
    type: z.literal('denylist'),
    words: z.array(z.string().min(1).max(500)).min(1).max(10_000),
    case_sensitive: z.boolean().default(false),
    /** Match whole words only (default), or anywhere inside words. */
    whole_words: z.boolean().default(true),
    action: actionSchema.default('block'),
    replacement: z.string().max(200).default('[REDACTED]'),
  })
  .strict();

const maxInputSchema = z
  .object({
    ...common,
    type: z.literal('max_input'),
    max_characters: z.number().int().positive().optional(),
    /** Estimated tokens: about four characters per token (as /v1/messages/count_tokens estimates). */
    max_tokens: z.number().int().positive().optional(),
  })
  .strict()
  .refine((value) => value.max_characters !== undefined || value.max_tokens !== undefined, 'max_characters or max_tokens is required');

const piiSchema = z
  .object({
    ...common,
    type: z.literal('pii'),
    entities: z
      .array(z.enum(piiEntityNames))
      .min(1)
      .default([...piiEntityNames]),
    action: actionSchema.default('mask'),
    /** Mask with numbered placeholders ([EMAIL_1]) and put the originals back into the answer. */
    reversible: z.boolean().default(false),
  })
  .strict();

const jsonSchemaSchema = z
  .object({ ...common, type: z.literal('json_schema'), schema: z.record(z.string(), z.unknown()) })
  .strict()
  .superRefine((value, context) => {
    const compiled = compileJsonSchema(value.schema);
    if (typeof compiled === 'string')
      context.addIssue({ code: 'custom', path: ['schema'], message: `not a usable JSON Schema: ${compiled}` });
  });

const webhookSchema = z
  .object({
    ...common,
    type: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/ }),
    headers: z.record(z.string(), z.string()).default({}),
    timeout_ms: z.number().int().min(1).max(60_000).default(2000),
    /** What happens when the webhook cannot answer in time or answers nonsense: allow (open) or block (closed). */
    fail_mode: z.enum(['open', 'closed']).default('closed'),
  })
  .strict();

const llmSchema = z
  .object({
    ...common,
    type: z.literal('llm'),
    /** A model the gateway serves (`provider/model`, a bare id or an alias). */
    model: z.string().min(1).max(256),
    /** judge: the model answers ALLOW or BLOCK; rewrite: the model returns the rewritten text. */
    mode: z.enum(['judge', 'rewrite']).default('judge'),
    prompt: z.string().max(20_000).optional(),
    timeout_ms: z.number().int().min(1).max(120_000).default(10_000),
    fail_mode: z.enum(['open', 'closed']).default('closed'),
  })
  .strict();

export const guardrailDefinitionSchema = z.discriminatedUnion('type', [
  systemPromptSchema,
  regexSchema,
  denylistSchema,
  maxInputSchema,
  piiSchema,
  jsonSchemaSchema,
  webhookSchema,
  llmSchema,
]);

export type GuardrailDefinition = z.infer<typeof guardrailDefinitionSchema>;

/** Phases each type may run in; the first is its default. */
export const allowedPhases: Record<GuardrailDefinition['type'], readonly ('input' | 'output')[]> = {
  system_prompt: ['input'],
  max_input: ['input'],
  regex: ['input', 'output'],
  denylist: ['input', 'output'],
  pii: ['input', 'output'],
  json_schema: ['output'],
  webhook: ['input', 'output'],
  llm: ['input', 'output'],
};

/** Why a definition's phase is not possible for its type, or null. */
export function phaseProblem(definition: GuardrailDefinition): string | null {
  const allowed = allowedPhases[definition.type];
  const asked = definition.phase;
  if (asked === undefined) return null;
  const phases = asked === 'both' ? ['input', 'output'] : [asked];
  if (phases.every((phase) => allowed.includes(phase as 'input' | 'output'))) return null;
  return `type ${definition.type} runs only on ${allowed.join(' and ')}`;
}
export type GuardrailDefinitionInput = z.input<typeof guardrailDefinitionSchema>;

export const guardrailsYamlSchema = z
  .object({
    enabled: z.union([z.string(), z.boolean()]).optional(),
    rules: z.array(guardrailDefinitionSchema).max(500).optional(),
    /** How often every replica reloads the guardrails stored through the admin API (seconds; 0 = never). */
    refresh_seconds: z.union([z.string(), z.number()]).optional(),
    /** Input guardrails on the lines of batches (ENABLE_GUARDRAILS_FOR_BATCH_PROCESSING wins). */
    batch_processing: z.union([z.string(), z.boolean()]).optional(),
  })
  .strict()
  .optional();

export interface GuardrailsConfig {
  enabled: boolean;
  rules: GuardrailDefinition[];
  refreshSeconds: number;
  /** ENABLE_GUARDRAILS_FOR_BATCH_PROCESSING (default false): input guardrails on each line of a batch. */
  batchProcessing: boolean;
}

type Env = Record<string, string | undefined>;

function flag(key: string, value: string | boolean | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (typeof value === 'boolean') return value;
  const normalized = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(normalized)) return true;
  if (['0', 'false', 'no', 'off'].includes(normalized)) return false;
  throw new ConfigError(key, `expected true or false, got '${value}'`);
}

export function loadGuardrailsConfig(env: Env, yaml: { guardrails?: z.infer<typeof guardrailsYamlSchema> }): GuardrailsConfig {
  const section = yaml.guardrails ?? {};
  const enabled = flag(
    env.GUARDRAILS_ENABLED !== undefined ? 'GUARDRAILS_ENABLED' : 'guardrails.enabled',
    env.GUARDRAILS_ENABLED ?? section.enabled,
    false,
  );
  const rules = section.rules ?? [];
  const seen = new Set<string>();
  for (const rule of rules) {
    if (seen.has(rule.name)) throw new ConfigError('guardrails.rules', `guardrail name '${rule.name}' is used twice`);
    const problem = phaseProblem(rule);
    if (problem) throw new ConfigError(`guardrails.rules.${rule.name}.phase`, problem);
    seen.add(rule.name);
  }
  const refreshValue = env.GUARDRAILS_REFRESH_SECONDS ?? section.refresh_seconds ?? 10;
  const refreshSeconds = Number(refreshValue);
  if (!Number.isInteger(refreshSeconds) || refreshSeconds < 0 || refreshSeconds > 86_400) {
    throw new ConfigError('GUARDRAILS_REFRESH_SECONDS', `expected whole seconds between 0 and 86400, got '${refreshValue}'`);
  }
  const batchProcessing = flag(
    env.ENABLE_GUARDRAILS_FOR_BATCH_PROCESSING !== undefined ? 'ENABLE_GUARDRAILS_FOR_BATCH_PROCESSING' : 'guardrails.batch_processing',
    env.ENABLE_GUARDRAILS_FOR_BATCH_PROCESSING ?? section.batch_processing,
    false,
  );
  return { enabled, rules, refreshSeconds, batchProcessing };
}
