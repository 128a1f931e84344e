/**
 * The `workflow` stage, first in the pipeline: finds the workflow that applies to the call (the most
 * specific whose scope matches, src/workflows/workflow-resolver.ts) and puts its decisions on the call's
 * trace (`trace.policy`), where the later stages and the recorders read their own switch. It also puts
 * the workflow's version into `trace.policyVersion` (the cache key and the audit record).
 * With no workflow defined the stage is one check per call; the key's owner and the call's target are
 * looked up only when some workflow is scoped by them.
 */
import type { KeyOwnerLookup } from '../core/outcome.ts';
import type { ModelRegistry } from '../core/model-registry.ts';
import { policyVersionOf } from '../pipeline/call-policy.ts';
import type { ModelCall } from '../pipeline/model-call.ts';
import type { Next, Stage } from '../pipeline/stage.ts';
import type { ProviderResult } from '../providers/types.ts';
import type { CallSubject, WorkflowEntry, WorkflowResolver } from './workflow-resolver.ts';
import { policyOf } from './workflow-resolver.ts';

export interface WorkflowStageOptions {
  resolver(): WorkflowResolver;
  registry: Pick<ModelRegistry, 'resolve'>;
  providerNames: ReadonlySet<string>;
  /** Follows aliases to the model they lead to (throws on a cycle). */
  followAliases(name: string): string;
  keyOwner(): KeyOwnerLookup | undefined;
  onApplied?(entry: WorkflowEntry): void;
}

export function createWorkflowStage(options: WorkflowStageOptions): Stage {
  async function targetOf(requested: string): Promise<{ models: string[]; provider: string | null }> {
    const models = [requested];
    let provider: string | null = null;
    const slash = requested.indexOf('/');
    if (slash > 0 && options.providerNames.has(requested.slice(0, slash))) provider = requested.slice(0, slash);
    let name = requested;
    try {
      name = options.followAliases(requested);
    } catch {
      return { models, provider };
    }
    if (name !== requested) models.push(name);
    const resolved = await options.registry.resolve(name).catch(() => null);
    if (resolved) {
      provider = resolved.provider.name;
      models.push(`${resolved.provider.name}/${resolved.model}`, resolved.model);
    }
    return { models, provider };
  }

  async function apply(resolver: WorkflowResolver, call: ModelCall, next: Next): Promise<ProviderResult> {
    const keyId = call.request.keyId;
    const owner = resolver.needsOwner && keyId !== null ? options.keyOwner()?.(keyId) : undefined;
    const target = resolver.needsTarget ? await targetOf(call.requestedModel) : { models: [call.requestedModel], provider: null };
    const subject: CallSubject = {
      keyId,
      user: owner?.user ?? null,
      team: owner?.team ?? null,
      tags: owner?.tags ?? [],
      models: target.models,
      provider: target.provider,
    };
    const entry = resolver.resolve(subject);
    if (entry) {
      const policy = policyOf(entry);
      call.trace.policy = policy;
      call.trace.policyVersion = policyVersionOf(null, policy);
      options.onApplied?.(entry);
    }
    return next(call);
  }

  return {
    name: 'workflow',
    handle(call, next) {
      const resolver = options.resolver();
      if (resolver.empty) return next(call);
      return apply(resolver, call, next);
    },
  };
}
