/**
 * The routing entries in force on this replica: aliases, virtual models and model overrides from the
 * configuration, with the admin API's entries from the database layered on top (same name: the
 * database wins). Reloaded from the database every ROUTING_REFRESH_SECONDS, and at once after a
 * change made through this replica's admin API.
 */
import type { ModelOverride, RoutingConfig, VirtualModelDefinition } from './routing-config.ts';
import type { RoutingStore, StoredRouting } from './routing-store.ts';

export type EntrySource = 'config' | 'admin';

export interface RoutingCatalog {
  readonly config: RoutingConfig;
  aliasOf(name: string): string | undefined;
  virtualModel(name: string): VirtualModelDefinition | undefined;
  /** Whether a model of a provider may be called (model overrides, else MODELS_ENABLED_BY_DEFAULT). */
  isEnabled(provider: string, model: string): boolean;
  aliases(): { name: string; target: string; source: EntrySource }[];
  virtualModels(): { name: string; definition: VirtualModelDefinition; source: EntrySource }[];
  overrides(): (ModelOverride & { source: EntrySource })[];
  /** The database store, once storage is open (admin changes need it). */
  store(): RoutingStore | null;
  attachStore(store: RoutingStore): Promise<void>;
  reload(): Promise<void>;
  start(): void;
  stop(): void;
}

const overrideKey = (provider: string, model: string) => `${provider}\u0000${model}`;

export function createRoutingCatalog(config: RoutingConfig, onError: (error: unknown) => void = () => {}): RoutingCatalog {
  let stored: StoredRouting = { aliases: {}, virtualModels: {}, overrides: [] };
  let aliasMap = new Map<string, string>();
  let virtualMap = new Map<string, VirtualModelDefinition>();
  let overrideMap = new Map<string, boolean>();
  let routingStore: RoutingStore | null = null;
  let timer: NodeJS.Timeout | undefined;
  let reloads = 0;

  function rebuild(): void {
    aliasMap = new Map([...Object.entries(config.aliases), ...Object.entries(stored.aliases)]);
    virtualMap = new Map([...Object.entries(config.virtualModels), ...Object.entries(stored.virtualModels)]);
    // A name is one thing: an admin alias hides a configured virtual model of the same name and the reverse.
    for (const name of Object.keys(stored.aliases)) if (!(name in stored.virtualModels)) virtualMap.delete(name);
    for (const name of Object.keys(stored.virtualModels)) aliasMap.delete(name);
    overrideMap = new Map();
    for (const override of [...config.overrides, ...stored.overrides]) {
      overrideMap.set(overrideKey(override.provider, override.model), override.enabled);
    }
  }
  rebuild();

  const source = (name: string, admin: Record<string, unknown>): EntrySource => (name in admin ? 'admin' : 'config');

  const catalog: RoutingCatalog = {
    config,
    aliasOf: (name) => aliasMap.get(name),
    virtualModel: (name) => virtualMap.get(name),
    isEnabled(provider, model) {
      if (overrideMap.size === 0) return config.modelsEnabledByDefault;
      return overrideMap.get(overrideKey(provider, model)) ?? overrideMap.get(overrideKey(provider, '*')) ?? config.modelsEnabledByDefault;
    },
    aliases: () => [...aliasMap].map(([name, target]) => ({ name, target, source: source(name, stored.aliases) })),
    virtualModels: () => [...virtualMap].map(([name, definition]) => ({ name, definition, source: source(name, stored.virtualModels) })),
    overrides() {
      const adminKeys = new Set(stored.overrides.map((override) => overrideKey(override.provider, override.model)));
      return [...overrideMap].map(([key, enabled]) => {
        const [provider = '', model = ''] = key.split('\u0000');
        return { provider, model, enabled, source: adminKeys.has(key) ? ('admin' as const) : ('config' as const) };
      });
    },
    store: () => routingStore,
    async attachStore(store) {
      routingStore = store;
      await catalog.reload();
    },
    async reload() {
      if (!routingStore) return;
      // A periodic reload that started before an admin write may finish after the write's own reload:
      // only the latest reload started is applied, so a stale snapshot never replaces a newer one.
      const generation = ++reloads;
      try {
        const loaded = await routingStore.load();
        if (generation !== reloads) return;
        stored = loaded;
        rebuild();
      } catch (error) {
        onError(error);
      }
    },
    start() {
      if (config.refreshSeconds > 0 && !timer) {
        timer = setInterval(() => void catalog.reload(), config.refreshSeconds * 1000);
        timer.unref();
      }
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
  return catalog;
}
