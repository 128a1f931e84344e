/** The `gateway_batches` table: one row per batch created through the gateway, with its owner and whether its usage is recorded. */
import type { Kysely } from 'kysely';
import { registerMigration, type StorageDialect } from '../storage/database.ts';

export interface GatewayBatchTable {
  /** The gateway's batch id (`batch_mg...`), what clients see. */
  id: string;
  /** The gateway key that created it (`''` when the gateway runs without keys). */
  key_id: string;
  provider: string;
  provider_batch_id: string;
  endpoint: string;
  status: string;
  /** Epoch milliseconds. */
  created_at: number;
  /** Epoch milliseconds of the last look at the provider's batch. */
  checked_at: number;
  /** Epoch milliseconds when the usage of every item was recorded; null until then. */
  usage_recorded_at: number | null;
  /** The provider's batch object as last seen (JSON text, provider ids). */
  object_json: string;
}

export type BatchesDatabase = Kysely<{ gateway_batches: GatewayBatchTable }>;

async function createBatches(db: Kysely<unknown>, dialect: StorageDialect): Promise<void> {
  const bigint = dialect === 'postgresql' ? 'bigint' : 'integer';
  await db.schema
    .createTable('gateway_batches')
    .ifNotExists()
    .addColumn('id', 'varchar(64)', (column) => column.primaryKey())
    .addColumn('key_id', 'varchar(128)', (column) => column.notNull())
    .addColumn('provider', 'varchar(255)', (column) => column.notNull())
    .addColumn('provider_batch_id', 'varchar(255)', (column) => column.notNull())
    .addColumn('endpoint', 'varchar(255)', (column) => column.notNull())
    .addColumn('status', 'varchar(32)', (column) => column.notNull())
    .addColumn('created_at', bigint, (column) => column.notNull())
    .addColumn('checked_at', bigint, (column) => column.notNull())
    .addColumn('usage_recorded_at', bigint)
    .addColumn('object_json', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('gateway_batches_owner').ifNotExists().on('gateway_batches').columns(['key_id', 'created_at']).execute();
  await db.schema
    .createIndex('gateway_batches_unsettled')
    .ifNotExists()
    .on('gateway_batches')
    .columns(['usage_recorded_at', 'status'])
    .execute();
}

registerMigration({ name: '20261202-11-gateway-batches', up: createBatches });
