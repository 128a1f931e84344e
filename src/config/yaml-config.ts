/**
 * config.yaml: its schema (strict, so a misspelt key fails at start naming it; each feature contributes its own
 * section's shape) and its reading, with ${VAR} and ${VAR:-default} expanded before validation.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { budgetYamlShape } from '../governance/budgets/budget-config.ts';
import { rateLimitYamlShape } from '../governance/limits/rate-limit-config.ts';
import { guardrailsYamlSchema } from '../guardrails/guardrails-config.ts';
import { passthroughYamlSchema } from '../passthrough/passthrough-config.ts';
import { providerResilienceYamlShape, resilienceYamlShape } from '../routing/resilience-config.ts';
import { routingYamlShape } from '../routing/routing-config.ts';
import { workflowsYamlSchema } from '../workflows/workflow-config.ts';
import { ConfigError } from './config-error.ts';
import { type Env, expandVariables } from './config-values.ts';

export const yamlSchema = z
  .object({
    server: z
      .object({
        port: z.union([z.string(), z.number()]).optional(),
        host: z.string().optional(),
        master_key: z.string().optional(),
        allow_unauthenticated: z.union([z.string(), z.boolean()]).optional(),
        body_size_limit: z.union([z.string(), z.number()]).optional(),
        log_level: z.string().optional(),
      })
      .strict()
      .optional(),
    upstream: z
      .object({
        timeout_ms: z.union([z.string(), z.number()]).optional(),
        headers_timeout_ms: z.union([z.string(), z.number()]).optional(),
        connect_timeout_ms: z.union([z.string(), z.number()]).optional(),
        max_response_bytes: z.union([z.string(), z.number()]).optional(),
        max_event_bytes: z.union([z.string(), z.number()]).optional(),
        total_timeout_ms: z.union([z.string(), z.number()]).optional(),
        models_refresh_seconds: z.union([z.string(), z.number()]).optional(),
      })
      .strict()
      .optional(),
    providers: z
      .record(
        z.string(),
        z
          .object({
            type: z.string(),
            api_key: z.string().optional(),
            base_url: z.string().optional(),
            models: z.union([z.array(z.string()), z.string()]).optional(),
            api_version: z.string().optional(),
            headers: z.record(z.string(), z.string()).optional(),
            ...providerResilienceYamlShape,
          })
          .strict(),
      )
      .optional(),
    storage: z
      .object({
        type: z.string().optional(),
        sqlite_path: z.string().optional(),
        postgres_url: z.string().optional(),
      })
      .strict()
      .optional(),
    usage: z
      .object({ enabled: z.union([z.string(), z.boolean()]).optional() })
      .strict()
      .optional(),
    logging: z
      .object({
        enabled: z.union([z.string(), z.boolean()]).optional(),
        log_bodies: z.union([z.string(), z.boolean()]).optional(),
        log_headers: z.union([z.string(), z.boolean()]).optional(),
        retention_days: z.union([z.string(), z.number()]).optional(),
        max_body_bytes: z.union([z.string(), z.number()]).optional(),
      })
      .strict()
      .optional(),
    pricing: z
      .record(
        z.string(),
        z
          .object({
            input: z.number().nonnegative().optional(),
            output: z.number().nonnegative().optional(),
            cached_input: z.number().nonnegative().optional(),
            cache_write: z.number().nonnegative().optional(),
          })
          .strict(),
      )
      .optional(),
    ...routingYamlShape,
    ...resilienceYamlShape,
    ...rateLimitYamlShape,
    ...budgetYamlShape,
    passthrough: passthroughYamlSchema,
    guardrails: guardrailsYamlSchema,
    workflows: workflowsYamlSchema,
  })
  .strict();

export type YamlConfig = z.infer<typeof yamlSchema>;

export function readYaml(path: string, env: Env): YamlConfig {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(path, `cannot read YAML: ${(error as Error).message}`);
  }
  if (raw === null || raw === undefined) return {};
  const result = yamlSchema.safeParse(expandVariables(raw, env));
  if (!result.success) {
    const issue = result.error.issues[0];
    const key = issue?.path.join('.') || '(root)';
    const unknownKeys = issue && 'keys' in issue ? ` (${(issue.keys as string[]).join(', ')})` : '';
    throw new ConfigError(`${path}: ${key}`, `${issue?.message ?? 'invalid'}${unknownKeys}`);
  }
  return result.data;
}
