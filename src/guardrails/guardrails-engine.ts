/**
 * The guardrails of a gateway: the definitions from config.yaml and those the admin API stored
 * (a stored one of the same name wins), compiled into a set that is replaced as a whole when the
 * stored ones change. Every replica sharing the database sees a change (src/storage/versioned-sync.ts):
 * the replica that took the write reloads at once and announces it on the shared state's
 * `guardrails:changed` channel (Redis pub/sub with REDIS_URL), on which every replica reloads; a reload
 * every GUARDRAILS_REFRESH_SECONDS catches a lost message.
 */
import type { SharedState } from '../state/shared-state.ts';
import { createVersionedSync } from '../storage/versioned-sync.ts';
import type { GuardrailDependencies } from './create-guardrail.ts';
import type { GuardrailDefinition } from './guardrails-config.ts';
import type { GuardrailsStore, StoredGuardrail } from './guardrails-store.ts';
import { createGuardrailSet, type GuardrailSet } from './guardrail-set.ts';
import { createSelector } from './guardrail-selection.ts';

export const guardrailsChannel = 'guardrails:changed';

export interface GuardrailsEngine {
  set(): GuardrailSet;
  selector(): ReturnType<typeof createSelector>;
  configured: readonly GuardrailDefinition[];
  stored(): readonly StoredGuardrail[];
  store(): GuardrailsStore | null;
  /** Loads the stored guardrails, then listens for the other replicas' change messages (when `state` is given). */
  attachStore(store: GuardrailsStore, state?: SharedState): Promise<void>;
  reload(): Promise<void>;
  /** Reloads here, then tells the other replicas to reload. */
  announce(): Promise<void>;
  start(refreshSeconds: number): void;
  stop(): Promise<void>;
  /** Called when the stored definitions cannot be loaded or compiled (the set in force stays). */
  onError?: (name: string, error: unknown) => void;
}

export function createGuardrailsEngine(
  configured: readonly GuardrailDefinition[],
  dependencies: GuardrailDependencies = {},
): GuardrailsEngine {
  let set = createGuardrailSet(configured, dependencies);
  let selector = createSelector(set);

  const sync = createVersionedSync<GuardrailDefinition>({
    channel: guardrailsChannel,
    onChange(entries) {
      const definitions = entries.map((entry) => entry.definition as GuardrailDefinition);
      const names = new Set(definitions.map((definition) => definition.name));
      const next = createGuardrailSet([...configured.filter((definition) => !names.has(definition.name)), ...definitions], dependencies);
      set = next;
      selector = createSelector(next);
    },
    onError: (error) => engine.onError?.('(reload)', error),
  });

  const engine: GuardrailsEngine = {
    set: () => set,
    selector: () => selector,
    configured,
    stored: sync.current,
    store: sync.store,
    attachStore: sync.attach,
    reload: sync.reload,
    announce: sync.announce,
    start: sync.start,
    stop: sync.stop,
  };
  return engine;
}
