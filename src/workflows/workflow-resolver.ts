/**
 * Which workflow applies to a call: among the enabled workflows whose whole scope matches, the most
 * specific. Each scope dimension has a weight, a power of two, so that a workflow naming a more specific
 * dimension always outranks any combination of less specific ones, and a workflow that adds a dimension
 * to another's scope outranks it:
 *
 *   key 32 > user 16 > team 8 > tag 4 > model 2 > provider 1   (an empty scope, 0, matches every call)
 *
 * Specificity is the sum of the weights of the dimensions a scope names. Ties (same dimensions, e.g. two
 * tags of one key): higher `priority`, then the name in alphabetical order. docs/workflows.md has the table.
 */
import type { CallPolicy } from '../pipeline/call-policy.ts';
import type { ScopeDimension, WorkflowDefinition } from './workflow-config.ts';

export const dimensionWeights: Record<ScopeDimension, number> = { key: 32, user: 16, team: 8, tag: 4, model: 2, provider: 1 };

export interface WorkflowEntry {
  definition: WorkflowDefinition;
  /** The stored version (`3`) or `config-<hash>`. */
  version: string;
  source: 'config' | 'admin';
}

/** What a call is matched on. */
export interface CallSubject {
  keyId: string | null;
  user: string | null;
  team: string | null;
  tags: readonly string[];
  /** Names the call's model goes by: as requested, and `provider/model` and the bare id it resolves to. */
  models: readonly string[];
  /** The provider serving the model (null when unknown). */
  provider: string | null;
}

export function specificityOf(definition: WorkflowDefinition): number {
  let total = 0;
  for (const [dimension, weight] of Object.entries(dimensionWeights)) {
    if (definition.scope[dimension as ScopeDimension] !== undefined) total += weight;
  }
  return total;
}

function matches(definition: WorkflowDefinition, subject: CallSubject): boolean {
  const scope = definition.scope;
  if (scope.key !== undefined && scope.key !== subject.keyId) return false;
  if (scope.user !== undefined && scope.user !== subject.user) return false;
  if (scope.team !== undefined && scope.team !== subject.team) return false;
  if (scope.tag !== undefined && !subject.tags.includes(scope.tag)) return false;
  if (scope.model !== undefined && !subject.models.includes(scope.model)) return false;
  if (scope.provider !== undefined && scope.provider !== subject.provider) return false;
  return true;
}

export interface WorkflowResolver {
  /** No enabled workflow: the stage passes every call on untouched. */
  empty: boolean;
  /** Some workflow is scoped by model or provider: the subject needs the call's resolved target. */
  needsTarget: boolean;
  /** Some workflow is scoped by user, team or tag: the subject needs the key's owner. */
  needsOwner: boolean;
  resolve(subject: CallSubject): WorkflowEntry | null;
  /** The entries, most specific first (the order `resolve` tries them in). */
  ordered: readonly WorkflowEntry[];
}

export function createWorkflowResolver(entries: readonly WorkflowEntry[]): WorkflowResolver {
  const ordered = entries
    .filter((entry) => entry.definition.enabled)
    .map((entry) => ({ entry, specificity: specificityOf(entry.definition) }))
    .sort(
      (left, right) =>
        right.specificity - left.specificity ||
        right.entry.definition.priority - left.entry.definition.priority ||
        (left.entry.definition.name < right.entry.definition.name ? -1 : left.entry.definition.name > right.entry.definition.name ? 1 : 0),
    )
    .map(({ entry }) => entry);
  const scopes = ordered.map((entry) => entry.definition.scope);
  return {
    empty: ordered.length === 0,
    needsTarget: scopes.some((scope) => scope.model !== undefined || scope.provider !== undefined),
    needsOwner: scopes.some((scope) => scope.user !== undefined || scope.team !== undefined || scope.tag !== undefined),
    ordered,
    resolve(subject) {
      for (const entry of ordered) if (matches(entry.definition, subject)) return entry;
      return null;
    },
  };
}

export function policyOf(entry: WorkflowEntry): CallPolicy {
  const { definition } = entry;
  return {
    workflow: definition.name,
    version: entry.version,
    guardrails: definition.guardrails ?? null,
    cache: definition.cache,
    audit: definition.audit,
    usage: definition.usage,
    fallback: definition.fallback,
    budget: definition.budget,
  };
}
