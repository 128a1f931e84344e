/**
 * The workflows of a gateway: those of config.yaml and those the admin API stored (a stored one of the
 * same name wins), compiled into a resolver that is replaced as a whole when the stored ones change.
 * Every replica sharing the database sees a change (src/storage/versioned-sync.ts): the replica that took
 * the write reloads at once and announces it on the shared state's `workflows:changed` channel, on which
 * every replica reloads; a reload every WORKFLOWS_REFRESH_SECONDS catches a lost message.
 */
import { createHash } from 'node:crypto';
import type { SharedState } from '../state/shared-state.ts';
import { createVersionedSync } from '../storage/versioned-sync.ts';
import type { WorkflowDefinition } from './workflow-config.ts';
import { createWorkflowResolver, type WorkflowEntry, type WorkflowResolver } from './workflow-resolver.ts';
import type { StoredWorkflow, WorkflowsStore } from './workflows-store.ts';

export const workflowsChannel = 'workflows:changed';

export interface WorkflowsEngine {
  resolver(): WorkflowResolver;
  /** Every workflow in force: configured ones not replaced by a stored one, then the stored ones. */
  entries(): readonly WorkflowEntry[];
  /** The latest stored version of each workflow the admin API wrote (deleted ones left out). */
  stored(): readonly StoredWorkflow[];
  configured: readonly WorkflowDefinition[];
  store(): WorkflowsStore | null;
  attach(store: WorkflowsStore, state?: SharedState): Promise<void>;
  reload(): Promise<void>;
  /** Reloads here, then tells the other replicas to reload. */
  announce(): Promise<void>;
  start(refreshSeconds: number): void;
  stop(): Promise<void>;
  onError?: (error: unknown) => void;
}

export function configVersion(definition: WorkflowDefinition): string {
  return `config-${createHash('sha256').update(JSON.stringify(definition)).digest('hex').slice(0, 8)}`;
}

export function createWorkflowsEngine(configured: readonly WorkflowDefinition[]): WorkflowsEngine {
  const configuredEntries: WorkflowEntry[] = configured.map((definition) => ({
    definition,
    version: configVersion(definition),
    source: 'config',
  }));
  let entries: readonly WorkflowEntry[] = configuredEntries;
  let resolver = createWorkflowResolver(entries);

  const sync = createVersionedSync<WorkflowDefinition>({
    channel: workflowsChannel,
    onChange(next) {
      const names = new Set(next.map((entry) => entry.name));
      entries = [
        ...configuredEntries.filter((entry) => !names.has(entry.definition.name)),
        ...next.map(
          (entry): WorkflowEntry => ({
            definition: entry.definition as WorkflowDefinition,
            version: String(entry.version),
            source: 'admin',
          }),
        ),
      ];
      resolver = createWorkflowResolver(entries);
    },
    onError: (error) => engine.onError?.(error),
  });

  const engine: WorkflowsEngine = {
    resolver: () => resolver,
    entries: () => entries,
    stored: sync.current,
    configured,
    store: sync.store,
    attach: sync.attach,
    reload: sync.reload,
    announce: sync.announce,
    start: sync.start,
    stop: sync.stop,
  };
  return engine;
}
