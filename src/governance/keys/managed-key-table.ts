/**
 * The managed-key table (SQLite and PostgreSQL, through the storage migrations). A key's secret is never
 * stored: only its SHA-256 (hex) and a short visible suffix. Lists are JSON text; times epoch ms.
 */
import type { Kysely } from 'kysely';
import { registerMigration, type StorageDialect } from '../../storage/database.ts';

export interface ManagedKeyTable {
  id: string;
  name: string | null;
  /** SHA-256 of the secret, hex. Unique. */
  secret_hash: string;
  /** Last characters of the secret, shown so people can tell keys apart. */
  secret_suffix: string;
  /** JSON array of scopes: inference, admin, admin:read. */
  scopes: string;
  /** JSON array of allowed models (empty: every model). */
  allowed_models: string;
  /** JSON array of denied models. */
  denied_models: string;
  owner_user: string | null;
  owner_team: string | null;
  /** JSON array of tags. */
  tags: string;
  /** JSON object of the key's own rate limits (snake_case, as the admin API takes them); null: none. */
  rate_limits: string | null;
  active: number;
  created_at: number;
  updated_at: number;
  expires_at: number | null;
  /** Set when the key is deleted (revoked); the row stays for attribution of past usage. */
  revoked_at: number | null;
  last_rotated_at: number | null;
}

export type ManagedKeyTables = {
  managed_key: ManagedKeyTable;
};

async function createManagedKeyTable(db: Kysely<unknown>, dialect: StorageDialect): Promise<void> {
  const time = dialect === 'postgresql' ? 'bigint' : 'integer';
  await db.schema
    .createTable('managed_key')
    .ifNotExists()
    .addColumn('id', 'varchar(64)', (column) => column.primaryKey())
    .addColumn('name', 'varchar(255)')
    .addColumn('secret_hash', 'varchar(64)', (column) => column.notNull().unique())
    .addColumn('secret_suffix', 'varchar(16)', (column) => column.notNull())
    .addColumn('scopes', 'text', (column) => column.notNull())
    .addColumn('allowed_models', 'text', (column) => column.notNull())
    .addColumn('denied_models', 'text', (column) => column.notNull())
    .addColumn('owner_user', 'varchar(255)')
    .addColumn('owner_team', 'varchar(255)')
    .addColumn('tags', 'text', (column) => column.notNull())
    .addColumn('active', 'integer', (column) => column.notNull().defaultTo(1))
    .addColumn('created_at', time, (column) => column.notNull())
    .addColumn('updated_at', time, (column) => column.notNull())
    .addColumn('expires_at', time)
    .addColumn('revoked_at', time)
    .addColumn('last_rotated_at', time)
    .execute();
  await db.schema.createIndex('managed_key_updated_at').ifNotExists().on('managed_key').column('updated_at').execute();
}

async function addRateLimits(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('managed_key').addColumn('rate_limits', 'text').execute();
}

registerMigration({ name: '20261202-10-managed-keys', up: createManagedKeyTable });
registerMigration({ name: '20261202-30-managed-key-rate-limits', up: addRateLimits });
