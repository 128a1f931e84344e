/**
 * Managed keys: the rows in the database, and an in-memory index by secret hash that makes the check of
 * a presented key a synchronous map lookup. Every change is written to the database first, then announced
 * on the shared state's `keys` channel; each replica reloads the changed key when the message arrives
 * (milliseconds), so a revoked key is refused everywhere within a second. Messages are at most once: a
 * poll of recently updated rows (every 5 s, every second while the shared state is unreachable) catches
 * anything missed.
 */
import type { Kysely } from 'kysely';
import type { LimitSet } from '../limits/rate-limit-config.ts';
import type { SharedState } from '../../state/shared-state.ts';
import type { Storage } from '../../storage/database.ts';
import {
  generateKeyId,
  generateSecret,
  hashSecret,
  type KeyScope,
  keyFromRow,
  type ManagedKey,
  rowFromKey,
  secretSuffix,
} from './managed-key.ts';
// Loading the table module registers its migration before storage starts.
import './managed-key-table.ts';
import type { ManagedKeyTables } from './managed-key-table.ts';

export const keysChannel = 'governance:keys';

export interface KeyFields {
  name?: string | null;
  scopes?: KeyScope[];
  allowedModels?: string[];
  deniedModels?: string[];
  user?: string | null;
  team?: string | null;
  tags?: string[];
  rateLimits?: LimitSet;
  active?: boolean;
  expiresAt?: number | null;
}

export interface KeyStore {
  /** The usable-or-not key whose secret hashes to `hash`, or undefined (revoked keys are forgotten). */
  byHash(hash: string): ManagedKey | undefined;
  byId(id: string): ManagedKey | undefined;
  /** Every usable-or-not key in this process's index (revoked keys excluded). */
  keys(): IterableIterator<ManagedKey>;
  list(options: { includeRevoked: boolean }): Promise<ManagedKey[]>;
  find(id: string): Promise<ManagedKey | undefined>;
  create(fields: KeyFields): Promise<{ key: ManagedKey; secret: string }>;
  update(id: string, fields: KeyFields): Promise<ManagedKey | undefined>;
  rotate(id: string): Promise<{ key: ManagedKey; secret: string } | undefined>;
  revoke(id: string): Promise<ManagedKey | undefined>;
  /** Called with each key that changed in this process's index (created, updated, rotated, revoked). */
  onChange(listener: (key: ManagedKey, previous: ManagedKey | undefined) => void): void;
  close(): Promise<void>;
}

export interface KeyStoreOptions {
  storage: Storage;
  state: SharedState;
  now?: () => number;
  pollMs?: number;
  onError?: (error: unknown) => void;
}

export async function createKeyStore(options: KeyStoreOptions): Promise<KeyStore> {
  const now = options.now ?? Date.now;
  const onError = options.onError ?? (() => {});
  const db = options.storage.db.withTables<ManagedKeyTables>() as unknown as Kysely<ManagedKeyTables>;
  const byHash = new Map<string, ManagedKey>();
  const byId = new Map<string, ManagedKey>();
  const listeners: ((key: ManagedKey, previous: ManagedKey | undefined) => void)[] = [];
  let newestUpdate = 0;

  const apply = (key: ManagedKey) => {
    const previous = byId.get(key.id);
    if (previous && previous.updatedAt > key.updatedAt) return;
    if (previous) byHash.delete(previous.secretHash);
    if (key.revokedAt === null) {
      byId.set(key.id, key);
      byHash.set(key.secretHash, key);
    } else {
      byId.delete(key.id);
    }
    newestUpdate = Math.max(newestUpdate, key.updatedAt);
    for (const listener of listeners) listener(key, previous);
  };
  const find = async (id: string) => {
    const row = await db.selectFrom('managed_key').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? keyFromRow(row) : undefined;
  };
  const reload = async (id: string) => {
    const key = await find(id);
    if (key) apply(key);
  };
  const announce = async (key: ManagedKey) => {
    apply(key);
    // The database holds the change already: a lost message is caught by the other replicas' poll.
    await options.state.publish(keysChannel, key.id).catch(onError);
  };

  for (const row of await db.selectFrom('managed_key').selectAll().where('revoked_at', 'is', null).execute()) apply(keyFromRow(row));

  const unsubscribe = await options.state
    .subscribe(keysChannel, (id) => {
      reload(id).catch(onError);
    })
    .catch((error: unknown) => {
      onError(error);
      return async () => {};
    });

  // Rows changed in the last 10 s before the newest change seen, so that a writer's clock a little behind ours is still caught.
  const poll = async () => {
    const since = newestUpdate - 10_000;
    const rows = await db.selectFrom('managed_key').selectAll().where('updated_at', '>=', since).execute();
    for (const row of rows) {
      const key = keyFromRow(row);
      const known = byId.get(key.id);
      if (!known || known.updatedAt < key.updatedAt || (key.revokedAt !== null && known.revokedAt === null)) apply(key);
    }
  };
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    const delay = options.state.available ? (options.pollMs ?? 5000) : 1000;
    timer = setTimeout(() => {
      poll()
        .catch(onError)
        .finally(schedule);
    }, delay);
    timer.unref();
  };
  schedule();

  // Each write gets a fresh updated_at strictly after the previous one of the key, so replicas order changes.
  const stamp = (previous: ManagedKey | undefined) => Math.max(now(), (previous?.updatedAt ?? 0) + 1);

  const change = async (id: string, edit: (key: ManagedKey) => ManagedKey): Promise<ManagedKey | undefined> => {
    const current = await find(id);
    if (!current || current.revokedAt !== null) return undefined;
    const next = edit({ ...current, updatedAt: stamp(current) });
    await db.updateTable('managed_key').set(rowFromKey(next)).where('id', '=', id).execute();
    await announce(next);
    return next;
  };

  return {
    byHash: (hash) => byHash.get(hash),
    byId: (id) => byId.get(id),
    keys: () => byId.values(),
    async list({ includeRevoked }) {
      let query = db.selectFrom('managed_key').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc');
      if (!includeRevoked) query = query.where('revoked_at', 'is', null);
      return (await query.execute()).map(keyFromRow);
    },
    find,
    async create(fields) {
      const secret = generateSecret();
      const at = now();
      const key: ManagedKey = {
        id: generateKeyId(),
        name: fields.name ?? null,
        secretHash: hashSecret(secret),
        secretSuffix: secretSuffix(secret),
        scopes: fields.scopes ?? ['inference'],
        allowedModels: fields.allowedModels ?? [],
        deniedModels: fields.deniedModels ?? [],
        user: fields.user ?? null,
        team: fields.team ?? null,
        tags: fields.tags ?? [],
        rateLimits: fields.rateLimits ?? {},
        active: fields.active ?? true,
        createdAt: at,
        updatedAt: at,
        expiresAt: fields.expiresAt ?? null,
        revokedAt: null,
        lastRotatedAt: null,
      };
      await db.insertInto('managed_key').values(rowFromKey(key)).execute();
      await announce(key);
      return { key, secret };
    },
    update(id, fields) {
      return change(id, (key) => {
        const next = { ...key };
        if (fields.name !== undefined) next.name = fields.name;
        if (fields.scopes !== undefined) next.scopes = fields.scopes;
        if (fields.allowedModels !== undefined) next.allowedModels = fields.allowedModels;
        if (fields.deniedModels !== undefined) next.deniedModels = fields.deniedModels;
        if (fields.user !== undefined) next.user = fields.user;
        if (fields.team !== undefined) next.team = fields.team;
        if (fields.tags !== undefined) next.tags = fields.tags;
        if (fields.rateLimits !== undefined) next.rateLimits = fields.rateLimits;
        if (fields.active !== undefined) next.active = fields.active;
        if (fields.expiresAt !== undefined) next.expiresAt = fields.expiresAt;
        return next;
      });
    },
    async rotate(id) {
      const secret = generateSecret();
      const key = await change(id, (current) => ({
        ...current,
        secretHash: hashSecret(secret),
        secretSuffix: secretSuffix(secret),
        lastRotatedAt: current.updatedAt,
      }));
      return key ? { key, secret } : undefined;
    },
    revoke(id) {
      return change(id, (key) => ({ ...key, active: false, revokedAt: key.updatedAt }));
    },
    onChange(listener) {
      listeners.push(listener);
    },
    async close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await unsubscribe().catch(() => {});
    },
  };
}
