/**
 * Definitions stored through an admin API, versioned and append-only: every write (create, replace,
 * delete) adds a row `(name, version, definition)` to the feature's table (a delete has no definition),
 * so the history of each name stays readable and the current set is the latest version of each name.
 * No row is ever updated or removed: a version, once written, stays as it was. Used by guardrails
 * (`guardrail_versions`) and workflows (`workflow_versions`); each feature registers its own table with
 * `versionedTableMigration`.
 */
import type { Kysely } from 'kysely';
import type { StorageDialect } from './database.ts';

export interface StoredVersion<T> {
  name: string;
  version: number;
  /** Null for a deletion. */
  definition: T | null;
  createdAt: number;
}

export interface VersionedStore<T> {
  /** The latest version of each stored name that is not deleted. */
  current(): Promise<StoredVersion<T>[]>;
  history(name: string): Promise<StoredVersion<T>[]>;
  /** Adds a version; null deletes. Returns the new version, or null when another write took that version first. */
  write(name: string, definition: T | null): Promise<number | null>;
}

interface VersionRow {
  name: string;
  version: number;
  definition: string | null;
  created_at: number;
}

/** The migration step that creates a versioned table (name and version are its primary key). */
export function versionedTableMigration(table: string) {
  return async (db: Kysely<unknown>, dialect: StorageDialect): Promise<void> => {
    await db.schema
      .createTable(table)
      .ifNotExists()
      .addColumn('name', 'varchar(64)', (column) => column.notNull())
      .addColumn('version', 'integer', (column) => column.notNull())
      .addColumn('definition', 'text')
      .addColumn('created_at', dialect === 'postgresql' ? 'bigint' : 'integer', (column) => column.notNull())
      .addPrimaryKeyConstraint(`${table}_pk`, ['name', 'version'])
      .execute();
  };
}

/**
 * A versioned store over `table`. `parse` reads a stored definition (already JSON-parsed) and returns
 * null when this version of the gateway cannot read it: such a row is skipped, not fatal.
 */
export function createVersionedStore<T>(database: Kysely<unknown>, table: string, parse: (value: unknown) => T | null): VersionedStore<T> {
  // The table name is the feature's own constant; Kysely is typed loosely here for that reason.
  const db = database as unknown as Kysely<Record<string, VersionRow>>;

  function parseRow(row: VersionRow): StoredVersion<T> | null {
    let definition: T | null = null;
    if (row.definition !== null) {
      try {
        definition = parse(JSON.parse(row.definition));
      } catch {
        return null;
      }
      if (definition === null) return null;
    }
    return { name: row.name, version: Number(row.version), definition, createdAt: Number(row.created_at) };
  }

  return {
    async current() {
      const rows = (await db.selectFrom(table).selectAll().orderBy('name').orderBy('version').execute()) as VersionRow[];
      const latest = new Map<string, VersionRow>();
      for (const row of rows) latest.set(row.name, row);
      return [...latest.values()].map(parseRow).filter((entry): entry is StoredVersion<T> => entry !== null && entry.definition !== null);
    },
    async history(name) {
      const rows = (await db.selectFrom(table).selectAll().where('name', '=', name).orderBy('version').execute()) as VersionRow[];
      return rows.map(parseRow).filter((entry): entry is StoredVersion<T> => entry !== null);
    },
    async write(name, definition) {
      const last = await db
        .selectFrom(table)
        .select((builder) => builder.fn.max('version').as('version'))
        .where('name', '=', name)
        .executeTakeFirst();
      const version = Number((last as { version?: unknown } | undefined)?.version ?? 0) + 1;
      const result = await db
        .insertInto(table)
        .values({ name, version, definition: definition === null ? null : JSON.stringify(definition), created_at: Date.now() })
        .onConflict((conflict) => conflict.columns(['name', 'version']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0 ? version : null;
    },
  };
}
