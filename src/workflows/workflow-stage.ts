/**
 * The `workflow` stage, first in the pipeline: finds the workflow that applies to the call (the most
 * specific whose scope matches, src/workflows/workflow-resolver.ts, through workflow-lookup.ts) and puts its
 * decisions on the call's trace (`trace.policy`), where the later stages and the recorders read their own
 * switch. It also puts the workflow's version into `trace.policyVersion` (the cache key and the audit record).
 * Opaque calls (passthrough) pass it too: their provider is the one the path names (`call.target`).
 * With no workflow defined the stage is one check per call.
 */
import { policyVersionOf } from '../pipeline/call-policy.ts';
import type { ModelCall } from '../pipeline/model-call.ts';
import type { Next, Stage } from '../pipeline/stage.ts';
import type { ProviderResult } from '../providers/types.ts';
import { createWorkflowLookup, type WorkflowLookupOptions } from './workflow-lookup.ts';
import type { WorkflowEntry } from './workflow-resolver.ts';
import { policyOf } from './workflow-resolver.ts';

export interface WorkflowStageOptions extends WorkflowLookupOptions {
  onApplied?(entry: WorkflowEntry): void;
}

export function createWorkflowStage(options: WorkflowStageOptions): Stage {
  const lookup = createWorkflowLookup(options);

  async function apply(call: ModelCall, next: Next): Promise<ProviderResult> {
    const provider = call.relay && call.target ? call.target.provider.name : undefined;
    const entry = await lookup({
      keyId: call.request.keyId,
      requestedModel: call.requestedModel,
      ...(provider === undefined ? {} : { provider }),
    });
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
      if (options.resolver().empty) return next(call);
      return apply(call, next);
    },
  };
}
