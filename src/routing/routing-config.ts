/**
 * Configuration of model routing: aliases, virtual models and model access. Sources, later ones
 * winning: config.yaml (`aliases:`, `virtual_models:`, `model_overrides:`), then the environment
 * (`MODEL_ALIASES`, `VIRTUAL_MODELS`, `MODELS_ENABLED_BY_DEFAULT`, `KEEP_ONLY_ALIASES_AT_MODELS_ENDPOINT`,
 * `ROUTING_REFRESH_SECONDS`), then what the admin API stored in the database (src/routing/routing-store.ts).
 */
import { z } from 'zod';
import { ConfigError } from '../config/config-error.ts';

export const strategyNames = ['weighted', 'priority', 'least-latency', 'cost', 'least-busy'] as const;
export type Strategy = (typeof strategyNames)[number];

/** A model name as clients send it: `provider/model`, a bare id, an alias or a virtual model. */
export const modelNameSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^\s,=]+$/, 'a model name has no spaces, commas or equals signs');

export const virtualTargetSchema = z
  .object({
    model: modelNameSchema,
    weight: z.number().positive().max(1_000_000).optional(),
    priority: z.number().int().min(0).max(1_000_000).optional(),
  })
  .strict();

export const virtualModelSchema = z
  .object({
    strategy: z.enum(strategyNames).default('weighted'),
    targets: z.array(virtualTargetSchema).min(1).max(64),
    /** Keep a session (x-modelgate-session-id, else the request's `user`) on one target while it is available. */
    session_affinity: z.boolean().default(false),
  })
  .strict();

export type VirtualTarget = z.infer<typeof virtualTargetSchema>;
export type VirtualModelDefinition = z.infer<typeof virtualModelSchema>;

export const modelOverrideSchema = z
  .object({ provider: z.string().min(1).max(128), model: modelNameSchema, enabled: z.boolean() })
  .strict();
export type ModelOverride = z.infer<typeof modelOverrideSchema>;

/** The `aliases:`, `virtual_models:` and `model_overrides:` sections of config.yaml. */
export const routingYamlShape = {
  aliases: z.record(z.string(), z.union([modelNameSchema, z.object({ target: modelNameSchema }).strict()])).optional(),
  virtual_models: z.record(z.string(), virtualModelSchema).optional(),
  model_overrides: z.array(modelOverrideSchema).optional(),
  routing: z
    .object({
      models_enabled_by_default: z.union([z.string(), z.boolean()]).optional(),
      keep_only_aliases_at_models_endpoint: z.union([z.string(), z.boolean()]).optional(),
      refresh_seconds: z.union([z.string(), z.number()]).optional(),
    })
    .strict()
    .optional(),
};

export type RoutingYaml = { [key in keyof typeof routingYamlShape]?: z.infer<(typeof routingYamlShape)[key]> };

export interface RoutingConfig {
  aliases: Record<string, string>;
  virtualModels: Record<string, VirtualModelDefinition>;
  overrides: ModelOverride[];
  modelsEnabledByDefault: boolean;
  keepOnlyAliasesAtModelsEndpoint: boolean;
  /** How often every replica reloads what the admin API stored (seconds; 0 = never). */
  refreshSeconds: number;
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

/** `MODEL_ALIASES=fast=groq/llama-3.3-70b-versatile,smart=anthropic/claude-sonnet-4-5`. */
export function parseAliasList(value: string): Record<string, string> {
  const aliases: Record<string, string> = {};
  for (const entry of value.split(',')) {
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const equals = trimmed.indexOf('=');
    const name = trimmed.slice(0, equals).trim();
    const target = trimmed.slice(equals + 1).trim();
    if (equals <= 0 || !modelNameSchema.safeParse(name).success || !modelNameSchema.safeParse(target).success) {
      throw new ConfigError('MODEL_ALIASES', `expected name=provider/model pairs separated by commas, got '${trimmed}'`);
    }
    aliases[name] = target;
  }
  return aliases;
}

function parseVirtualModels(value: string): Record<string, VirtualModelDefinition> {
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch (error) {
    throw new ConfigError('VIRTUAL_MODELS', `not valid JSON: ${(error as Error).message}`);
  }
  const result = z.record(z.string(), virtualModelSchema).safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`VIRTUAL_MODELS.${issue?.path.join('.') ?? ''}`, issue?.message ?? 'invalid');
  }
  return result.data;
}

export function loadRoutingConfig(env: Env, yaml: RoutingYaml): RoutingConfig {
  const aliases: Record<string, string> = {};
  for (const [name, entry] of Object.entries(yaml.aliases ?? {})) {
    if (!modelNameSchema.safeParse(name).success) throw new ConfigError(`aliases.${name}`, 'not a valid model name');
    aliases[name] = typeof entry === 'string' ? entry : entry.target;
  }
  if (env.MODEL_ALIASES) Object.assign(aliases, parseAliasList(env.MODEL_ALIASES));
  const virtualModels: Record<string, VirtualModelDefinition> = { ...(yaml.virtual_models ?? {}) };
  if (env.VIRTUAL_MODELS) Object.assign(virtualModels, parseVirtualModels(env.VIRTUAL_MODELS));
  for (const name of Object.keys(virtualModels)) {
    if (!modelNameSchema.safeParse(name).success) throw new ConfigError(`virtual_models.${name}`, 'not a valid model name');
    if (aliases[name] !== undefined) throw new ConfigError(`virtual_models.${name}`, 'the same name is also an alias');
  }
  const section = yaml.routing ?? {};
  const refreshValue = env.ROUTING_REFRESH_SECONDS ?? section.refresh_seconds ?? 2;
  const refreshSeconds = Number(refreshValue);
  if (!Number.isFinite(refreshSeconds) || refreshSeconds < 0 || refreshSeconds > 3600) {
    throw new ConfigError('ROUTING_REFRESH_SECONDS', `expected a number of seconds between 0 and 3600, got '${refreshValue}'`);
  }
  return {
    aliases,
    virtualModels,
    overrides: yaml.model_overrides ?? [],
    modelsEnabledByDefault: flag('MODELS_ENABLED_BY_DEFAULT', env.MODELS_ENABLED_BY_DEFAULT ?? section.models_enabled_by_default, true),
    keepOnlyAliasesAtModelsEndpoint: flag(
      'KEEP_ONLY_ALIASES_AT_MODELS_ENDPOINT',
      env.KEEP_ONLY_ALIASES_AT_MODELS_ENDPOINT ?? section.keep_only_aliases_at_models_endpoint,
      false,
    ),
    refreshSeconds,
  };
}
