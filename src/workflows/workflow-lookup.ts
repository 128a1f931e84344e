/**
 * Finds the workflow for a call from what the call is known by: the key (and its owner's user, team and
 * tags), the model as requested, and the provider. Used by the `workflow` stage for calls through the
 * pipeline, and for work outside it (batches: `GatewayContext.workflowFor`). The key's owner and the
 * model's target are looked up only when some workflow is scoped by them.
 */
import type { KeyOwnerLookup } from '../core/outcome.ts';
import type { ModelRegistry } from '../core/model-registry.ts';
import type { CallSubject, WorkflowEntry, WorkflowResolver } from './workflow-resolver.ts';

export interface WorkflowQuery {
  keyId: string | null;
  /** The model as the client named it ('' when the call names none). */
  requestedModel: string;
  /**
   * The provider serving the call when the caller already knows it (passthrough names it in the path; a batch
   * has picked the one that runs it): the model is then matched as requested, as `model` (that provider's own
   * name for it, default the requested one) and as `provider/model`; neither aliases nor the model list are consulted.
   */
  provider?: string;
  model?: string;
}

export interface WorkflowLookupOptions {
  resolver(): WorkflowResolver;
  registry: Pick<ModelRegistry, 'resolve'>;
  providerNames: ReadonlySet<string>;
  /** Follows aliases to the model they lead to (throws on a cycle). */
  followAliases(name: string): string;
  keyOwner(): KeyOwnerLookup | undefined;
}

export type WorkflowLookup = (query: WorkflowQuery) => Promise<WorkflowEntry | null>;

export function createWorkflowLookup(options: WorkflowLookupOptions): WorkflowLookup {
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

  function knownTarget(requested: string, provider: string, model: string): { models: string[]; provider: string } {
    if (model === '') return { models: requested === '' ? [] : [requested], provider };
    return { models: [...new Set([requested, model, `${provider}/${model}`])], provider };
  }

  return async (query) => {
    const resolver = options.resolver();
    if (resolver.empty) return null;
    const { keyId, requestedModel } = query;
    const owner = resolver.needsOwner && keyId !== null ? options.keyOwner()?.(keyId) : undefined;
    const target =
      query.provider !== undefined
        ? knownTarget(requestedModel, query.provider, query.model ?? requestedModel)
        : resolver.needsTarget
          ? await targetOf(requestedModel)
          : { models: [requestedModel], provider: null };
    const subject: CallSubject = {
      keyId,
      user: owner?.user ?? null,
      team: owner?.team ?? null,
      tags: owner?.tags ?? [],
      models: target.models,
      provider: target.provider,
    };
    return resolver.resolve(subject);
  };
}
