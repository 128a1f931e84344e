/**
 * Workflow definitions (the `workflows:` section of config.yaml and the bodies of the admin API): a scope
 * (key, user, team, tag, provider, model; several may be combined, all must match) and what the workflow
 * decides for the calls in it: which guardrails run, and whether cache, audit, usage, fallback and budget
 * apply. The most specific matching workflow wins (src/workflows/workflow-resolver.ts, docs/workflows.md).
 */
import { z } from 'zod';
import { ConfigError } from '../config/config-error.ts';
import { guardrailNameSchema } from '../guardrails/guardrails-config.ts';

/** At most 40 characters, so that `<guardrails hash>/<name>@<version>` fits the audit log's policy_version (64). */
export const workflowNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/, 'letters, digits, dot, dash and underscore; at most 40 characters');

const subject = z.string().min(1).max(255);

export const workflowScopeSchema = z
  .object({
    /** A managed key's id (`key_...`) or the master key's (`master:...`). */
    key: subject.optional(),
    user: subject.optional(),
    team: subject.optional(),
    /** Matches when the key carries this tag. */
    tag: subject.optional(),
    /** A configured provider's name: the one `provider/model` names or a bare id resolves to. */
    provider: subject.optional(),
    /** The model as the client named it (an alias or virtual model by its own name), or what it resolves to. */
    model: subject.optional(),
  })
  .strict();

export type WorkflowScope = z.infer<typeof workflowScopeSchema>;
export const scopeDimensions = ['key', 'user', 'team', 'tag', 'model', 'provider'] as const;
export type ScopeDimension = (typeof scopeDimensions)[number];

const switchSchema = z.boolean().default(true);

export const workflowDefinitionSchema = z
  .object({
    name: workflowNameSchema,
    description: z.string().max(500).optional(),
    enabled: z.boolean().default(true),
    /** Breaks ties between matching workflows of the same specificity (higher wins; then the name, in order). */
    priority: z.number().int().min(-1000).max(1000).default(0),
    /** Empty (the default): every call. */
    scope: workflowScopeSchema.default({}),
    /** Guardrails that run (by name); omitted: every enabled guardrail; []: none. */
    guardrails: z.array(guardrailNameSchema).max(200).optional(),
    cache: switchSchema,
    audit: switchSchema,
    usage: switchSchema,
    fallback: switchSchema,
    budget: switchSchema,
  })
  .strict();

export type WorkflowDefinition = z.infer<typeof workflowDefinitionSchema>;
export type WorkflowDefinitionInput = z.input<typeof workflowDefinitionSchema>;

export const workflowsYamlSchema = z.array(workflowDefinitionSchema).max(1000).optional();

export interface WorkflowsConfig {
  definitions: WorkflowDefinition[];
  /** How often every replica reloads the stored workflows besides the change messages (seconds; 0 = never). */
  refreshSeconds: number;
}

type Env = Record<string, string | undefined>;

export function loadWorkflowsConfig(env: Env, yaml: { workflows?: z.infer<typeof workflowsYamlSchema> }): WorkflowsConfig {
  const definitions = yaml.workflows ?? [];
  const seen = new Set<string>();
  for (const definition of definitions) {
    if (seen.has(definition.name)) throw new ConfigError('workflows', `workflow name '${definition.name}' is used twice`);
    seen.add(definition.name);
  }
  const refreshValue = env.WORKFLOWS_REFRESH_SECONDS ?? 10;
  const refreshSeconds = Number(refreshValue);
  if (!Number.isInteger(refreshSeconds) || refreshSeconds < 0 || refreshSeconds > 86_400) {
    throw new ConfigError('WORKFLOWS_REFRESH_SECONDS', `expected whole seconds between 0 and 86400, got '${refreshValue}'`);
  }
  return { definitions, refreshSeconds };
}
