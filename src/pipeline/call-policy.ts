/**
 * What the workflow that applies to a call decided (src/workflows/), set on the call's trace by the
 * `workflow` stage before any other stage runs. Stages read only their own switch: the cache stage
 * `cache`, fallback `fallback`, budget `budget`, the guardrails stages `guardrails`, and the usage and
 * audit recorders `usage` and `audit` (through the outcome). Absent (no workflow defined, or none matched):
 * everything applies as configured.
 */
export interface CallPolicy {
  workflow: string;
  /** The stored version (`3`), or `config-<hash>` for a workflow of config.yaml. */
  version: string;
  /** Guardrail names to run; null: every enabled guardrail. */
  guardrails: readonly string[] | null;
  cache: boolean;
  audit: boolean;
  usage: boolean;
  fallback: boolean;
  budget: boolean;
}

/** At most the audit log's policy_version width. */
const maxPolicyVersionLength = 64;

/**
 * The call's policy version (trace.policyVersion, in the cache key and the audit record): the guardrails'
 * hash, then `/<workflow>@<version>` when a workflow applies (`<workflow>@<version>` without guardrails).
 */
export function policyVersionOf(guardrailsVersion: string | null, policy: CallPolicy | undefined): string {
  const workflow = policy ? `${policy.workflow}@${policy.version}` : null;
  if (guardrailsVersion === null) return (workflow ?? '').slice(0, maxPolicyVersionLength);
  return (workflow === null ? guardrailsVersion : `${guardrailsVersion}/${workflow}`).slice(0, maxPolicyVersionLength);
}

/** What a call's outcome records of its workflow (the recorders read `audit` and `usage`). */
export function workflowOfOutcome(policy: CallPolicy): { name: string; version: string; audit: boolean; usage: boolean } {
  return { name: policy.workflow, version: policy.version, audit: policy.audit, usage: policy.usage };
}
