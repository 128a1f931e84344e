/**
 * Fallback lists: from the configuration (`fallbacks:` in config.yaml, MODEL_FALLBACKS) and from the
 * admin API, stored in the gateway's database (table `routing_fallbacks`, added through the migration
 * registry) so every replica sharing it sees the same lists; each replica reloads them every
 * `reloadSeconds` (2 s by default). An admin entry for a model replaces the configured one.
 */
import type { Kysely } from 'kysely';
import { registerMigration, type StorageDialect } from '../storage/database.ts';

export interface FallbackEntry {
  model: string;
  fallbacks: string[];
  source: 'config' | 'admin';
}

export interface FallbackLists {
  /** The ordered fallbacks of a model, or undefined when it has none. */
  lookup(model: string): readonly string[] | undefined;
  /** Whether any model has fallbacks (the stage is cheaper when none has). */
  empty(): boolean;
  entries(): FallbackEntry[];
  /** Connects the database; loads what it holds. */
  attach(database: Kysely<unknown>): Promise<void>;
  attached(): boolean;
  put(model: string, fallbacks: string[]): Promise<void>;
  /** False when the model has no admin entry. */
  remove(model: string): Promise<boolean>;
  reload(): Promise<void>;
  start(reloadSeconds: number, onError: (error: unknown) => void): void;
  stop(): void;
}

interface FallbackTables {
  routing_fallbacks: { model: string; fallbacks: string; updated_at: number };
}

async function createFallbackTable(db: Kysely<unknown>, dialect: StorageDialect): Promise<void> {
  await db.schema
    .createTable('routing_fallbacks')
    .ifNotExists()
    .addColumn('model', 'varchar(256)', (column) => column.primaryKey())
    .addColumn('fallbacks', 'text', (column) => column.notNull())
    .addColumn('updated_at', dialect === 'postgresql' ? 'bigint' : 'integer', (column) => column.notNull())
    .execute();
}

registerMigration({ name: '20261202-20-routing-fallbacks', up: createFallbackTable });

export function createFallbackLists(configured: Record<string, string[]>): FallbackLists {
  let db: Kysely<FallbackTables> | null = null;
  let stored = new Map<string, string[]>();
  let merged = new Map<string, string[]>();
  let timer: NodeJS.Timeout | undefined;

  const rebuild = () => {
    const next = new Map<string, string[]>();
    for (const [model, list] of Object.entries(configured)) if (list.length > 0) next.set(model, list);
    for (const [model, list] of stored) {
      if (list.length > 0) next.set(model, list);
      else next.delete(model);
    }
    merged = next;
  };
  rebuild();

  let reloads = 0;
  const requireDb = (): Kysely<FallbackTables> => {
    if (!db) throw new Error('fallback lists have no database');
    return db;
  };

  const lists: FallbackLists = {
    lookup: (model) => merged.get(model),
    empty: () => merged.size === 0,
    entries() {
      return [...merged].map(([model, fallbacks]) => ({ model, fallbacks, source: stored.has(model) ? 'admin' : 'config' }));
    },
    async attach(database) {
      db = database as unknown as Kysely<FallbackTables>;
      await lists.reload();
    },
    attached: () => db !== null,
    async reload() {
      // Only the latest reload started is applied (a periodic one may finish after an admin write's own).
      const generation = ++reloads;
      const rows = await requireDb().selectFrom('routing_fallbacks').selectAll().execute();
      if (generation !== reloads) return;
      const next = new Map<string, string[]>();
      for (const row of rows) {
        try {
          const parsed = JSON.parse(row.fallbacks) as unknown;
          if (Array.isArray(parsed) && parsed.every((item) => typeof item === 'string')) next.set(row.model, parsed);
        } catch {
          // a row this version cannot read is skipped
        }
      }
      stored = next;
      rebuild();
    },
    async put(model, fallbacks) {
      const row = { model, fallbacks: JSON.stringify(fallbacks), updated_at: Date.now() };
      await requireDb()
        .insertInto('routing_fallbacks')
        .values(row)
        .onConflict((conflict) => conflict.column('model').doUpdateSet({ fallbacks: row.fallbacks, updated_at: row.updated_at }))
        .execute();
      await lists.reload();
    },
    async remove(model) {
      const result = await requireDb().deleteFrom('routing_fallbacks').where('model', '=', model).executeTakeFirst();
      await lists.reload();
      return Number(result.numDeletedRows) > 0;
    },
    start(reloadSeconds, onError) {
      if (!db || reloadSeconds <= 0) return;
      timer = setInterval(() => lists.reload().catch(onError), reloadSeconds * 1000);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
  return lists;
}
