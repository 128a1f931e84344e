/**
 * Guardrails stored through the admin API, versioned: every write (create, replace, delete) adds a
 * row `(name, version, definition)` to `guardrail_versions` (a delete has no definition), so the
 * history of each guardrail stays readable and the current set is the latest version of each name.
 * Every replica sharing the database reloads it every GUARDRAILS_REFRESH_SECONDS.
 */
import type { Kysely } from 'kysely';
import { registerMigration, type StorageDialect } from '../storage/database.ts';
import { type GuardrailDefinition, guardrailDefinitionSchema } from './guardrails-config.ts';

export interface StoredGuardrail {
  name: string;
  version: number;
  /** Null for a deletion. */
  definition: GuardrailDefinition | null;
  createdAt: number;
}

export interface GuardrailsStore {
  /** The latest version of each stored guardrail that is not deleted. */
  current(): Promise<StoredGuardrail[]>;
  history(name: string): Promise<StoredGuardrail[]>;
  /** Adds a version; null deletes. Returns the new version, or null when another write took that version first. */
  write(name: string, definition: GuardrailDefinition | null): Promise<number | null>;
}

interface GuardrailTables {
  guardrail_versions: { name: string; version: number; definition: string | null; created_at: number };
}

async function createGuardrailTables(db: Kysely<unknown>, dialect: StorageDialect): Promise<void> {
  await db.schema
    .createTable('guardrail_versions')
    .ifNotExists()
    .addColumn('name', 'varchar(64)', (column) => column.notNull())
    .addColumn('version', 'integer', (column) => column.notNull())
    .addColumn('definition', 'text')
    .addColumn('created_at', dialect === 'postgresql' ? 'bigint' : 'integer', (column) => column.notNull())
    .addPrimaryKeyConstraint('guardrail_versions_pk', ['name', 'version'])
    .execute();
}

registerMigration({ name: '20261202-21-guardrails', up: createGuardrailTables });

function parseRow(row: GuardrailTables['guardrail_versions']): StoredGuardrail | null {
  let definition: GuardrailDefinition | null = null;
  if (row.definition !== null) {
    try {
      const parsed = guardrailDefinitionSchema.safeParse(JSON.parse(row.definition));
      if (!parsed.success) return null; // a row this version cannot read is skipped, not fatal
      definition = parsed.data;
    } catch {
      return null;
    }
  }
  return { name: row.name, version: Number(row.version), definition, createdAt: Number(row.created_at) };
}

export function createKyselyGuardrailsStore(database: Kysely<unknown>): GuardrailsStore {
  const db = database as unknown as Kysely<GuardrailTables>;
  return {
    async current() {
      const rows = await db.selectFrom('guardrail_versions').selectAll().orderBy('name').orderBy('version').execute();
      const latest = new Map<string, GuardrailTables['guardrail_versions']>();
      for (const row of rows) latest.set(row.name, row);
      return [...latest.values()].map(parseRow).filter((entry): entry is StoredGuardrail => entry !== null && entry.definition !== null);
    },
    async history(name) {
      const rows = await db.selectFrom('guardrail_versions').selectAll().where('name', '=', name).orderBy('version').execute();
      return rows.map(parseRow).filter((entry): entry is StoredGuardrail => entry !== null);
    },
    async write(name, definition) {
      const last = await db
        .selectFrom('guardrail_versions')
        .select((builder) => builder.fn.max('version').as('version'))
        .where('name', '=', name)
        .executeTakeFirst();
      const version = Number(last?.version ?? 0) + 1;
      const result = await db
        .insertInto('guardrail_versions')
        .values({ name, version, definition: definition === null ? null : JSON.stringify(definition), created_at: Date.now() })
        .onConflict((conflict) => conflict.columns(['name', 'version']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0 ? version : null;
    },
  };
}
