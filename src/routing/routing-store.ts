/**
 * What the admin API stores about routing (aliases, virtual models, model overrides), in the gateway's
 * database (SQLite or PostgreSQL, tables added through the migration registry), so every replica
 * sharing the database sees the same entries (each reloads them every ROUTING_REFRESH_SECONDS).
 */
import type { Kysely } from 'kysely';
import { registerMigration, type StorageDialect } from '../storage/database.ts';
import type { ModelOverride, VirtualModelDefinition } from './routing-config.ts';

export interface StoredRouting {
  aliases: Record<string, string>;
  virtualModels: Record<string, VirtualModelDefinition>;
  overrides: ModelOverride[];
}

export interface RoutingStore {
  load(): Promise<StoredRouting>;
  putAlias(name: string, target: string): Promise<void>;
  deleteAlias(name: string): Promise<boolean>;
  putVirtualModel(name: string, definition: VirtualModelDefinition): Promise<void>;
  deleteVirtualModel(name: string): Promise<boolean>;
  putOverride(override: ModelOverride): Promise<void>;
  deleteOverride(provider: string, model: string): Promise<boolean>;
}

interface RoutingTables {
  routing_aliases: { name: string; target: string; updated_at: number };
  routing_virtual_models: { name: string; definition: string; updated_at: number };
  routing_model_overrides: { provider: string; model: string; enabled: number; updated_at: number };
}

async function createRoutingTables(db: Kysely<unknown>, dialect: StorageDialect): Promise<void> {
  const time = dialect === 'postgresql' ? 'bigint' : 'integer';
  await db.schema
    .createTable('routing_aliases')
    .ifNotExists()
    .addColumn('name', 'varchar(256)', (column) => column.primaryKey())
    .addColumn('target', 'varchar(256)', (column) => column.notNull())
    .addColumn('updated_at', time, (column) => column.notNull())
    .execute();
  await db.schema
    .createTable('routing_virtual_models')
    .ifNotExists()
    .addColumn('name', 'varchar(256)', (column) => column.primaryKey())
    .addColumn('definition', 'text', (column) => column.notNull())
    .addColumn('updated_at', time, (column) => column.notNull())
    .execute();
  await db.schema
    .createTable('routing_model_overrides')
    .ifNotExists()
    .addColumn('provider', 'varchar(128)', (column) => column.notNull())
    .addColumn('model', 'varchar(256)', (column) => column.notNull())
    .addColumn('enabled', 'integer', (column) => column.notNull())
    .addColumn('updated_at', time, (column) => column.notNull())
    .addPrimaryKeyConstraint('routing_model_overrides_pk', ['provider', 'model'])
    .execute();
}

registerMigration({ name: '20261202-10-routing', up: createRoutingTables });

export function createKyselyRoutingStore(database: Kysely<unknown>): RoutingStore {
  const db = database as unknown as Kysely<RoutingTables>;
  return {
    async load() {
      const [aliasRows, virtualRows, overrideRows] = await Promise.all([
        db.selectFrom('routing_aliases').selectAll().execute(),
        db.selectFrom('routing_virtual_models').selectAll().execute(),
        db.selectFrom('routing_model_overrides').selectAll().execute(),
      ]);
      const virtualModels: Record<string, VirtualModelDefinition> = {};
      for (const row of virtualRows) {
        try {
          virtualModels[row.name] = JSON.parse(row.definition) as VirtualModelDefinition;
        } catch {
          // a row this version cannot read is skipped, not fatal
        }
      }
      return {
        aliases: Object.fromEntries(aliasRows.map((row) => [row.name, row.target])),
        virtualModels,
        overrides: overrideRows.map((row) => ({ provider: row.provider, model: row.model, enabled: Number(row.enabled) === 1 })),
      };
    },
    async putAlias(name, target) {
      const row = { name, target, updated_at: Date.now() };
      await db
        .insertInto('routing_aliases')
        .values(row)
        .onConflict((conflict) => conflict.column('name').doUpdateSet({ target, updated_at: row.updated_at }))
        .execute();
    },
    async deleteAlias(name) {
      const result = await db.deleteFrom('routing_aliases').where('name', '=', name).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async putVirtualModel(name, definition) {
      const row = { name, definition: JSON.stringify(definition), updated_at: Date.now() };
      await db
        .insertInto('routing_virtual_models')
        .values(row)
        .onConflict((conflict) => conflict.column('name').doUpdateSet({ definition: row.definition, updated_at: row.updated_at }))
        .execute();
    },
    async deleteVirtualModel(name) {
      const result = await db.deleteFrom('routing_virtual_models').where('name', '=', name).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async putOverride(override) {
      const row = { provider: override.provider, model: override.model, enabled: override.enabled ? 1 : 0, updated_at: Date.now() };
      await db
        .insertInto('routing_model_overrides')
        .values(row)
        .onConflict((conflict) => conflict.columns(['provider', 'model']).doUpdateSet({ enabled: row.enabled, updated_at: row.updated_at }))
        .execute();
    },
    async deleteOverride(provider, model) {
      const result = await db
        .deleteFrom('routing_model_overrides')
        .where('provider', '=', provider)
        .where('model', '=', model)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
