/**
 * One storage layer over SQLite (better-sqlite3, the embedded default) and PostgreSQL (pg), through
 * Kysely. Migrations run at start. Any module can add tables with `registerMigration` before the
 * gateway starts (module load time is enough); migrations are applied in name order and each runs once.
 *
 * Portability rules for migrations and queries: timestamps are integer epoch milliseconds (`bigint`),
 * calendar days are `YYYY-MM-DD` text (UTC) computed by the writer, JSON is stored as text, booleans
 * as integers 0/1. PostgreSQL returns bigint and SUM() as strings: read numbers through `Number()`.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3, { type Database as SqliteDatabase, type Statement as SqliteStatement } from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { type Migration, type MigrationProvider, Migrator } from 'kysely/migration';
import type { GatewayConfig } from '../config/load-config.ts';
import { type AuditLogTable, coreMigrations, type UsageTable } from './tables.ts';

export type { AuditLogTable, UsageTable } from './tables.ts';

/** Tables owned by the core storage module. Other modules type their own tables with `db.withTables<...>()`. */
export interface StorageTables {
  usage: UsageTable;
  audit_log: AuditLogTable;
}

export type StorageDialect = 'sqlite' | 'postgresql';

export interface Storage {
  /** The Kysely handle. Other modules: `storage.db.withTables<{ my_table: MyTable }>()`. */
  db: Kysely<StorageTables>;
  dialect: StorageDialect;
  /** Applies registered migrations that have not run yet (called by `createStorage`). */
  migrate(): Promise<string[]>;
  /**
   * Inserts rows of one core table, skipping ids already stored (replayed spill files). On SQLite this runs
   * one cached prepared statement per row inside a single transaction, which costs far less than compiling
   * and preparing a new multi-row INSERT for every batch.
   */
  insertIgnoringDuplicates<Table extends keyof StorageTables>(table: Table, rows: StorageTables[Table][]): Promise<void>;
  close(): Promise<void>;
}

export interface StorageMigration {
  /** Unique and sortable: `YYYYMMDD-NN-description`. Migrations run in name order. */
  name: string;
  up(db: Kysely<unknown>, dialect: StorageDialect): Promise<void>;
}

const migrations = new Map<string, StorageMigration>();

/** Adds a migration to the registry. Call it at module load, before the gateway starts. */
export function registerMigration(migration: StorageMigration): void {
  const existing = migrations.get(migration.name);
  if (existing && existing !== migration) throw new Error(`migration '${migration.name}' is already registered`);
  migrations.set(migration.name, migration);
}

for (const migration of coreMigrations) registerMigration(migration);

export function registeredMigrations(): StorageMigration[] {
  return [...migrations.values()].sort((left, right) => byCodePoint(left.name, right.name));
}

/**
 * Migration names in code-point order, the order Kysely's migrator resolves them in (`Array#sort`). Not
 * `localeCompare`: its first call builds an ICU collator, about 8 ms and 1 MB at every start.
 */
function byCodePoint(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

export type StorageSettings = Pick<GatewayConfig['storage'], 'type' | 'sqlitePath' | 'postgresUrl'> & {
  /** PostgreSQL schema to use (created when missing); tests use one per run. */
  postgresSchema?: string | undefined;
};

function quoteIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid PostgreSQL schema name '${name}'`);
  return `"${name}"`;
}

function openSqlite(path: string): SqliteDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const database = new BetterSqlite3(path);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('busy_timeout = 5000');
  return database;
}

/**
 * Rows keep only the columns the table has: a record replayed from a spill file or journal written by a
 * newer build may carry a column this database does not have yet (an older build after a rollback).
 */
function knownColumnsOnly(rows: Record<string, unknown>[], columns: ReadonlySet<string>): Record<string, unknown>[] {
  return rows.map((row) => {
    for (const column in row) {
      if (!columns.has(column)) {
        const kept: Record<string, unknown> = {};
        for (const [name, value] of Object.entries(row)) if (columns.has(name)) kept[name] = value;
        return kept;
      }
    }
    return row;
  });
}

/**
 * Batch inserts on SQLite: a prepared single-row statement per table and column list, one transaction per
 * batch. Rows of one batch may differ in columns (a spill file or journal written before a migration added
 * one): each row runs the statement of its own column list, so a missing column takes its default.
 */
function createSqliteInserter(database: SqliteDatabase) {
  /** A prepared insert and the columns it binds, in order: positional parameters bind faster than named ones. */
  interface PreparedInsert {
    statement: SqliteStatement;
    used: string[];
  }
  const statements = new Map<string, PreparedInsert>();
  const tableColumns = new Map<string, Set<string>>();
  const columnsOf = (table: string): Set<string> => {
    let columns = tableColumns.get(table);
    if (!columns) {
      const info = database.pragma(`table_info("${table.replaceAll('"', '""')}")`) as { name: string }[];
      columns = new Set(info.map((column) => column.name));
      tableColumns.set(table, columns);
    }
    return columns;
  };
  const statementFor = (table: string, columns: string[], known: ReadonlySet<string>): PreparedInsert => {
    const key = `${table}:${columns.join(',')}`;
    let prepared = statements.get(key);
    if (!prepared) {
      const used = columns.filter((column) => known.has(column));
      const names = used.map((column) => `"${column}"`).join(', ');
      const slots = used.map(() => '?').join(', ');
      const statement = database.prepare(`insert into "${table}" (${names}) values (${slots}) on conflict (id) do nothing`);
      prepared = { statement, used };
      // Column lists come from this build and from replayed files: few, but never let them pile up.
      if (statements.size >= 64) statements.clear();
      statements.set(key, prepared);
    }
    return prepared;
  };
  const values: unknown[] = [];
  // One transaction function for the life of the database: building one per batch showed in profiles.
  const insertBatch = database.transaction((table: string, rows: Record<string, unknown>[]) => {
    const known = columnsOf(table);
    let columns = Object.keys(rows[0] as Record<string, unknown>);
    let prepared = statementFor(table, columns, known);
    for (const row of rows) {
      const rowColumns = Object.keys(row);
      if (rowColumns.length !== columns.length || rowColumns.some((column, index) => column !== columns[index])) {
        columns = rowColumns;
        prepared = statementFor(table, columns, known);
      }
      const { used, statement } = prepared;
      values.length = used.length;
      for (let index = 0; index < used.length; index++) values[index] = row[used[index] as string];
      // As arguments, not one array: better-sqlite3 then binds each value straight from the call's arguments
      // instead of reading it out of the array (about 7,500 fewer instructions per 28-column row, callgrind).
      statement.run(...values);
    }
  });
  const insert = (table: string, rows: Record<string, unknown>[]): void => {
    if (rows.length === 0) return;
    insertBatch(table, rows);
  };
  /** After a migration: columns may have changed. */
  const reset = () => {
    statements.clear();
    tableColumns.clear();
  };
  return { insert, reset };
}

async function createPostgres(url: string, schema: string | undefined): Promise<Kysely<StorageTables>> {
  // Loaded only when PostgreSQL is used: the embedded default does not pay for pg's memory.
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // A pool error on an idle client must not crash the process; queries report their own errors.
  pool.on('error', () => {});
  const dialectConfig: ConstructorParameters<typeof PostgresDialect>[0] = { pool };
  if (schema) {
    const quoted = quoteIdentifier(schema);
    dialectConfig.onCreateConnection = async (connection) => {
      try {
        await connection.executeQuery(CompiledQuery.raw(`create schema if not exists ${quoted}`));
      } catch {
        // "if not exists" is not race-free: a concurrent connection may have created it a moment ago
        // (duplicate key in pg_namespace). The schema exists either way; set search_path below.
      }
      await connection.executeQuery(CompiledQuery.raw(`set search_path to ${quoted}`));
    };
  }
  return new Kysely<StorageTables>({ dialect: new PostgresDialect(dialectConfig) });
}

/** Opens the database named by the configuration and runs pending migrations. */
export async function createStorage(settings: StorageSettings): Promise<Storage> {
  const dialect: StorageDialect = settings.type;
  let db: Kysely<StorageTables>;
  let sqliteInsert: ReturnType<typeof createSqliteInserter> | undefined;
  if (dialect === 'postgresql') {
    if (!settings.postgresUrl) throw new Error('POSTGRES_URL is required when STORAGE_TYPE=postgresql');
    db = await createPostgres(settings.postgresUrl, settings.postgresSchema);
  } else {
    const database = openSqlite(settings.sqlitePath);
    sqliteInsert = createSqliteInserter(database);
    db = new Kysely<StorageTables>({ dialect: new SqliteDialect({ database }) });
  }
  let closed = false;
  /** PostgreSQL: the columns of each core table, read at the first insert (after migrations). */
  const postgresColumns = new Map<string, Set<string>>();
  const storage: Storage = {
    db,
    dialect,
    async migrate() {
      postgresColumns.clear();
      sqliteInsert?.reset();
      // Migrations applied by modules this process did not load (a newer build, a tool opening the
      // database) are kept as no-ops rather than treated as corruption.
      let applied: string[] = [];
      try {
        const rows = await (db as unknown as Kysely<{ modelgate_migration: { name: string } }>)
          .selectFrom('modelgate_migration')
          .select('name')
          .execute();
        applied = rows.map((row) => row.name);
      } catch {
        // first start: no migration table yet
      }
      const provider: MigrationProvider = {
        async getMigrations() {
          const result: Record<string, Migration> = {};
          for (const name of applied) result[name] = { up: async () => {} };
          for (const migration of registeredMigrations()) {
            result[migration.name] = { up: (handle) => migration.up(handle as Kysely<unknown>, dialect) };
          }
          return result;
        },
      };
      // PostgreSQL: name the schema explicitly, or Kysely would take a migration table of another
      // schema in the same database (another deployment, another test run) for ours.
      let migrationTableSchema: string | undefined;
      if (dialect === 'postgresql') {
        const result = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
        migrationTableSchema = settings.postgresSchema ?? result.rows[0]?.schema ?? 'public';
      }
      const migrator = new Migrator({
        db,
        provider,
        allowUnorderedMigrations: true,
        migrationTableName: 'modelgate_migration',
        migrationLockTableName: 'modelgate_migration_lock',
        nameComparator: byCodePoint,
        ...(migrationTableSchema === undefined ? {} : { migrationTableSchema }),
      });
      const { error, results } = await migrator.migrateToLatest();
      if (error) {
        const failed = results?.find((result) => result.status === 'Error')?.migrationName;
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(`storage migration ${failed ? `'${failed}' ` : ''}failed: ${message}`, { cause: error });
      }
      return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
    },
    async insertIgnoringDuplicates(table, rows) {
      if (rows.length === 0) return;
      if (sqliteInsert) {
        const { insert } = sqliteInsert;
        // Through Kysely's connection, so the batch waits for (and never joins) a Kysely query or transaction in flight.
        await db.connection().execute(async () => insert(table, rows as unknown as Record<string, unknown>[]));
        return;
      }
      let columns = postgresColumns.get(table);
      if (!columns) {
        const result = await sql<{ name: string }>`select column_name as name from information_schema.columns
          where table_schema = current_schema() and table_name = ${table}`.execute(db);
        columns = new Set(result.rows.map((row) => row.name));
        if (columns.size > 0) postgresColumns.set(table, columns);
      }
      // Kysely inserts DEFAULT for a column some rows of the batch lack.
      const values = columns.size > 0 ? knownColumnsOnly(rows as unknown as Record<string, unknown>[], columns) : rows;
      await (db as unknown as Kysely<Record<string, Record<string, unknown>>>)
        .insertInto(table)
        .values(values as unknown as Record<string, unknown>[])
        .onConflict((conflict) => conflict.column('id').doNothing())
        .execute();
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
  try {
    // Two processes starting on a new SQLite file can race to apply the same migration; the loser
    // fails on a lock or a duplicate and, on retry, finds the migration applied.
    for (let attempt = 1; ; attempt++) {
      try {
        await storage.migrate();
        break;
      } catch (error) {
        if (attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  } catch (error) {
    await storage.close().catch(() => {});
    throw error;
  }
  return storage;
}
