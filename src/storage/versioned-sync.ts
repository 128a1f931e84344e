/**
 * Keeps one replica's copy of a versioned store (src/storage/versioned-store.ts) in step with the database
 * that every replica shares: the replica that took an admin write reloads at once and announces it on the
 * shared state's channel (Redis pub/sub with REDIS_URL; in-process with the embedded state), on which every
 * replica reloads; a reload every `refreshSeconds` catches a lost message (and is the only way when replicas
 * share the database but not Redis). Used by guardrails (`guardrails:changed`) and workflows (`workflows:changed`).
 */
import type { SharedState } from '../state/shared-state.ts';
import type { StoredVersion, VersionedStore } from './versioned-store.ts';

export interface VersionedSync<T> {
  /** The latest stored version of each name (deleted ones left out), as last loaded. */
  current(): readonly StoredVersion<T>[];
  store(): VersionedStore<T> | null;
  /** Loads the store, then listens on the channel (when a shared state is given). */
  attach(store: VersionedStore<T>, state?: SharedState): Promise<void>;
  /** Reads the store; calls `onChange` when some name's version differs from the last load. */
  reload(): Promise<void>;
  /** Reloads here, then tells the other replicas to reload. */
  announce(): Promise<void>;
  start(refreshSeconds: number): void;
  stop(): Promise<void>;
}

export interface VersionedSyncOptions<T> {
  channel: string;
  onChange(entries: readonly StoredVersion<T>[]): void;
  onError(error: unknown): void;
}

function sameVersions<T>(left: readonly StoredVersion<T>[], right: readonly StoredVersion<T>[]): boolean {
  return (
    left.length === right.length &&
    left.every((entry, index) => entry.name === right[index]?.name && entry.version === right[index]?.version)
  );
}

export function createVersionedSync<T>(options: VersionedSyncOptions<T>): VersionedSync<T> {
  let loaded: readonly StoredVersion<T>[] = [];
  let attached: VersionedStore<T> | null = null;
  let state: SharedState | undefined;
  let unsubscribe: (() => Promise<void>) | null = null;
  let timer: NodeJS.Timeout | null = null;
  let reloads = 0;
  const reloadQuietly = () => {
    sync.reload().catch(options.onError);
  };

  const sync: VersionedSync<T> = {
    current: () => loaded,
    store: () => attached,
    async attach(store, shared) {
      attached = store;
      state = shared;
      await sync.reload();
      if (!shared) return;
      unsubscribe = await shared.subscribe(options.channel, reloadQuietly).catch((error: unknown) => {
        options.onError(error);
        return null;
      });
    },
    async reload() {
      if (!attached) return;
      const generation = ++reloads;
      const next = await attached.current();
      // Only the latest reload started is applied (a slow periodic one never undoes an admin write's).
      if (generation !== reloads || sameVersions(next, loaded)) return;
      // Applied before it counts as loaded: a set that failed to apply is tried again at the next reload.
      options.onChange(next);
      loaded = next;
    },
    async announce() {
      await sync.reload();
      await state?.publish(options.channel, 'changed').catch(options.onError);
    },
    start(refreshSeconds) {
      if (refreshSeconds <= 0 || timer) return;
      timer = setInterval(reloadQuietly, refreshSeconds * 1000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await unsubscribe?.().catch(() => {});
      unsubscribe = null;
    },
  };
  return sync;
}
