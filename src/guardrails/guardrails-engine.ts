/**
 * The guardrails of a gateway: the definitions from config.yaml and those the admin API stored
 * (a stored one of the same name wins), compiled into a set that is replaced as a whole when the
 * stored ones change. Every replica reloads the stored ones every GUARDRAILS_REFRESH_SECONDS, and at
 * once after its own admin writes.
 */
import type { GuardrailDependencies } from './create-guardrail.ts';
import type { GuardrailDefinition } from './guardrails-config.ts';
import type { GuardrailsStore, StoredGuardrail } from './guardrails-store.ts';
import { createGuardrailSet, type GuardrailSet } from './guardrail-set.ts';
import { createSelector } from './guardrail-selection.ts';

export interface GuardrailsEngine {
  set(): GuardrailSet;
  selector(): ReturnType<typeof createSelector>;
  configured: readonly GuardrailDefinition[];
  stored(): readonly StoredGuardrail[];
  store(): GuardrailsStore | null;
  attachStore(store: GuardrailsStore): Promise<void>;
  reload(): Promise<void>;
  start(refreshSeconds: number): void;
  stop(): void;
  /** Called when a stored definition cannot be compiled (it is left out; the others stay in force). */
  onError?: (name: string, error: unknown) => void;
}

export function createGuardrailsEngine(
  configured: readonly GuardrailDefinition[],
  dependencies: GuardrailDependencies = {},
): GuardrailsEngine {
  let stored: readonly StoredGuardrail[] = [];
  let set = createGuardrailSet(configured, dependencies);
  let selector = createSelector(set);
  let attached: GuardrailsStore | null = null;
  let timer: NodeJS.Timeout | null = null;
  let reloads = 0;

  function replace(entries: readonly StoredGuardrail[]): void {
    const definitions = entries.map((entry) => entry.definition as GuardrailDefinition);
    const names = new Set(definitions.map((definition) => definition.name));
    const next = createGuardrailSet([...configured.filter((definition) => !names.has(definition.name)), ...definitions], dependencies);
    stored = entries;
    set = next;
    selector = createSelector(next);
  }

  const engine: GuardrailsEngine = {
    set: () => set,
    selector: () => selector,
    configured,
    stored: () => stored,
    store: () => attached,
    async attachStore(store) {
      attached = store;
      await engine.reload();
    },
    async reload() {
      if (!attached) return;
      const generation = ++reloads;
      const entries = await attached.current();
      // Only the latest reload started is applied (a slow periodic one never undoes an admin write's).
      if (generation !== reloads) return;
      if (
        entries.length === stored.length &&
        entries.every((entry, index) => entry.name === stored[index]?.name && entry.version === stored[index]?.version)
      )
        return;
      replace(entries);
    },
    start(refreshSeconds) {
      if (refreshSeconds <= 0 || timer) return;
      timer = setInterval(() => {
        engine.reload().catch((error: unknown) => engine.onError?.('(reload)', error));
      }, refreshSeconds * 1000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
  return engine;
}
