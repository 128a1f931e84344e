/** Batches owned by gateway keys, like files (src/files/file-store.ts): another key's batch is "not found". */
import { randomBytes } from 'node:crypto';
import { GatewayError } from '../core/errors.ts';
import type { Storage } from '../storage/database.ts';
import type { BatchesDatabase, GatewayBatchTable } from './batch-table.ts';
import './batch-table.ts';

type Json = Record<string, unknown>;

export interface StoredBatch {
  id: string;
  owner: string;
  provider: string;
  providerBatchId: string;
  endpoint: string;
  status: string;
  createdAt: number;
  checkedAt: number;
  usageRecordedAt: number | null;
  /** The provider's batch object (provider ids). */
  object: Json;
}

export interface BatchStore {
  add(batch: Omit<StoredBatch, 'id' | 'createdAt' | 'checkedAt' | 'usageRecordedAt'>): Promise<StoredBatch>;
  get(owner: string, id: string): Promise<StoredBatch>;
  /** Saves the provider's latest object and status. */
  update(batch: StoredBatch): Promise<void>;
  /** Marks the usage recorded (first writer wins; later calls change nothing). */
  markUsageRecorded(id: string): Promise<void>;
  list(owner: string, query: { limit: number; after?: string | undefined }): Promise<{ batches: StoredBatch[]; hasMore: boolean }>;
  /** Batches whose usage is not recorded yet, least recently checked first (for the poller). */
  unsettled(limit: number): Promise<StoredBatch[]>;
}

export function newBatchId(): string {
  return `batch_mg${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x')}`;
}

export function batchNotFound(id: string): GatewayError {
  return new GatewayError(`No batch found with id '${id}'`, { status: 404, code: 'batch_not_found', param: 'batch_id', retryable: false });
}

function fromRow(row: GatewayBatchTable): StoredBatch {
  return {
    id: row.id,
    owner: row.key_id,
    provider: row.provider,
    providerBatchId: row.provider_batch_id,
    endpoint: row.endpoint,
    status: row.status,
    createdAt: Number(row.created_at),
    checkedAt: Number(row.checked_at),
    usageRecordedAt: row.usage_recorded_at === null ? null : Number(row.usage_recorded_at),
    object: JSON.parse(row.object_json) as Json,
  };
}

export function createBatchStore(storage: Storage): BatchStore {
  const db = storage.db.withTables<{ gateway_batches: GatewayBatchTable }>() as unknown as BatchesDatabase;
  return {
    async add(batch) {
      const now = Date.now();
      const stored: StoredBatch = { ...batch, id: newBatchId(), createdAt: now, checkedAt: now, usageRecordedAt: null };
      await db
        .insertInto('gateway_batches')
        .values({
          id: stored.id,
          key_id: stored.owner,
          provider: stored.provider,
          provider_batch_id: stored.providerBatchId,
          endpoint: stored.endpoint,
          status: stored.status,
          created_at: stored.createdAt,
          checked_at: stored.checkedAt,
          usage_recorded_at: null,
          object_json: JSON.stringify(stored.object),
        })
        .execute();
      return stored;
    },
    async get(owner, id) {
      const row = await db.selectFrom('gateway_batches').selectAll().where('id', '=', id).where('key_id', '=', owner).executeTakeFirst();
      if (!row) throw batchNotFound(id);
      return fromRow(row);
    },
    async update(batch) {
      batch.checkedAt = Date.now();
      await db
        .updateTable('gateway_batches')
        .set({ status: batch.status, checked_at: batch.checkedAt, object_json: JSON.stringify(batch.object) })
        .where('id', '=', batch.id)
        .execute();
    },
    async markUsageRecorded(id) {
      await db
        .updateTable('gateway_batches')
        .set({ usage_recorded_at: Date.now() })
        .where('id', '=', id)
        .where('usage_recorded_at', 'is', null)
        .execute();
    },
    async list(owner, query) {
      let select = db.selectFrom('gateway_batches').selectAll().where('key_id', '=', owner);
      if (query.after) {
        const cursor = await db
          .selectFrom('gateway_batches')
          .select(['created_at', 'id'])
          .where('id', '=', query.after)
          .where('key_id', '=', owner)
          .executeTakeFirst();
        if (!cursor) throw batchNotFound(query.after);
        const createdAt = Number(cursor.created_at);
        select = select.where((where) =>
          where.or([where('created_at', '<', createdAt), where.and([where('created_at', '=', createdAt), where('id', '<', cursor.id)])]),
        );
      }
      const rows = await select
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(query.limit + 1)
        .execute();
      return { batches: rows.slice(0, query.limit).map(fromRow), hasMore: rows.length > query.limit };
    },
    async unsettled(limit) {
      const rows = await db
        .selectFrom('gateway_batches')
        .selectAll()
        .where('usage_recorded_at', 'is', null)
        .orderBy('checked_at', 'asc')
        .limit(limit)
        .execute();
      return rows.map(fromRow);
    },
  };
}
