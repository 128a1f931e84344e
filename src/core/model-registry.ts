/**
 * Knows which provider serves which model. `provider/model` picks the provider by name; a bare
 * name goes to the first configured provider that lists it. Lists are fetched at start and
 * refreshed periodically; a miss triggers one early refresh (at most every 30 s). The gateway listens
 * before the first lists arrive (a slow or unreachable provider must not hold the start): a lookup
 * during the first fetch waits for it, and so do the listing endpoints (`ready()`).
 */
import type { Provider } from '../providers/types.ts';

export interface ModelEntry {
  id: string;
  provider: string;
  providerType: string;
}

export interface ResolvedModel {
  provider: Provider;
  /** Model name as the upstream knows it. */
  model: string;
}

export interface ModelRegistry {
  readonly providers: readonly Provider[];
  refresh(): Promise<void>;
  resolve(model: string): Promise<ResolvedModel | null>;
  list(): ModelEntry[];
  /** Resolves once the first fetch of every provider's list has ended (listed or failed). */
  ready(): Promise<void>;
  /** Whether that first fetch has ended. */
  readonly listed: boolean;
  /** Grows by one each time the lists change, for caches built from list(). */
  readonly version: number;
  /** Providers whose last model list fetch failed, with the reason. */
  failures(): Record<string, string>;
  start(refreshSeconds: number): void;
  stop(): void;
}

export interface ModelRegistryOptions {
  listTimeoutMs?: number;
  onError?: (provider: string, error: unknown) => void;
}

export function createModelRegistry(providers: Provider[], options: ModelRegistryOptions = {}): ModelRegistry {
  const byName = new Map(providers.map((provider) => [provider.name, provider]));
  const lists = new Map<string, string[]>();
  const errors = new Map<string, string>();
  let bareIndex = new Map<string, Provider>();
  let lastRefresh = 0;
  let inFlight: Promise<void> | null = null;
  let first: Promise<void> | null = null;
  let version = 0;
  let timer: NodeJS.Timeout | undefined;

  function rebuildIndex(): void {
    const index = new Map<string, Provider>();
    for (const provider of providers) {
      for (const id of lists.get(provider.name) ?? []) if (!index.has(id)) index.set(id, provider);
    }
    bareIndex = index;
    version += 1;
  }

  async function refreshOne(provider: Provider): Promise<void> {
    const signal = AbortSignal.timeout(options.listTimeoutMs ?? 15_000);
    try {
      const ids = await provider.listModels(signal);
      lists.set(provider.name, ids);
      errors.delete(provider.name);
    } catch (error) {
      errors.set(provider.name, error instanceof Error ? error.message : String(error));
      options.onError?.(provider.name, error);
    }
  }

  function refresh(): Promise<void> {
    inFlight ??= Promise.all(providers.map(refreshOne)).then(() => {
      lastRefresh = Date.now();
      rebuildIndex();
      inFlight = null;
    });
    first ??= inFlight;
    return inFlight;
  }

  function lookup(model: string): ResolvedModel | null {
    const slash = model.indexOf('/');
    if (slash > 0) {
      const provider = byName.get(model.slice(0, slash));
      const rest = model.slice(slash + 1);
      if (provider && rest.length > 0) return { provider, model: rest };
    }
    const provider = bareIndex.get(model);
    return provider ? { provider, model } : null;
  }

  return {
    providers,
    refresh,
    async resolve(model) {
      const found = lookup(model);
      if (found || Date.now() - lastRefresh < 30_000) return found;
      await refresh();
      return lookup(model);
    },
    list() {
      const entries: ModelEntry[] = [];
      for (const provider of providers) {
        for (const id of lists.get(provider.name) ?? []) {
          entries.push({ id, provider: provider.name, providerType: provider.type });
        }
      }
      return entries;
    },
    ready() {
      return first ?? refresh();
    },
    get listed() {
      return lastRefresh > 0;
    },
    get version() {
      return version;
    },
    failures() {
      return Object.fromEntries(errors);
    },
    start(refreshSeconds) {
      if (refreshSeconds > 0) {
        timer = setInterval(() => void refresh(), refreshSeconds * 1000);
        timer.unref();
      }
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
