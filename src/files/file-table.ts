/** The `gateway_files` table: one row per file uploaded through the gateway (or produced by a batch), with its owner. */
import type { Kysely } from 'kysely';
import { registerMigration, type StorageDialect } from '../storage/database.ts';

export interface GatewayFileTable {
  /** The gateway's file id (`file-mg...`), what clients see. */
  id: string;
  /** The gateway key that uploaded it (`''` when the gateway runs without keys). */
  key_id: string;
  provider: string;
  provider_file_id: string;
  filename: string;
  purpose: string;
  bytes: number;
  status: string;
  /** Epoch milliseconds. */
  created_at: number;
  /** The provider's file object as last seen (JSON text), relayed with the gateway id. */
  object_json: string;
}

export type FilesDatabase = Kysely<{ gateway_files: GatewayFileTable }>;

async function createFiles(db: Kysely<unknown>, dialect: StorageDialect): Promise<void> {
  const bigint = dialect === 'postgresql' ? 'bigint' : 'integer';
  await db.schema
    .createTable('gateway_files')
    .ifNotExists()
    .addColumn('id', 'varchar(64)', (column) => column.primaryKey())
    .addColumn('key_id', 'varchar(128)', (column) => column.notNull())
    .addColumn('provider', 'varchar(255)', (column) => column.notNull())
    .addColumn('provider_file_id', 'varchar(255)', (column) => column.notNull())
    .addColumn('filename', 'varchar(1024)', (column) => column.notNull())
    .addColumn('purpose', 'varchar(64)', (column) => column.notNull())
    .addColumn('bytes', bigint, (column) => column.notNull())
    .addColumn('status', 'varchar(32)', (column) => column.notNull())
    .addColumn('created_at', bigint, (column) => column.notNull())
    .addColumn('object_json', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('gateway_files_owner').ifNotExists().on('gateway_files').columns(['key_id', 'created_at']).execute();
  await db.schema
    .createIndex('gateway_files_provider_file')
    .ifNotExists()
    .on('gateway_files')
    .columns(['provider', 'provider_file_id'])
    .execute();
}

registerMigration({ name: '20261202-10-gateway-files', up: createFiles });
