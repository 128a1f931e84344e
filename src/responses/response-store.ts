/**
 * Where the gateway keeps the Responses it created, with their input items, so that
 * GET/DELETE /v1/responses/{id}, GET /v1/responses/{id}/input_items and `previous_response_id`
 * work for every provider and across gateway replicas. Backed by the storage layer's Kysely
 * handle (table `responses`, added through the migration registry).
 */
import type { Kysely } from 'kysely';
import type { Json } from '../providers/types.ts';
import { registerMigration, type StorageDialect } from '../storage/database.ts';

export interface StoredResponse {
  id: string;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Provider instance that produced it. */
  provider: string | null;
  model: string | null;
  /** True when the provider's own Responses API produced it (the upstream knows it too). */
  native: boolean;
  previousResponseId: string | null;
  response: Json;
  /** This request's input items (not the history before it). */
  inputItems: Json[];
}

export interface ResponseStore {
  save(stored: StoredResponse): Promise<void>;
  get(id: string): Promise<StoredResponse | null>;
  /** Returns false when there was nothing to delete. */
  delete(id: string): Promise<boolean>;
}

export interface ResponsesTable {
  id: string;
  created_at: number;
  provider: string | null;
  model: string | null;
  native: number;
  previous_response_id: string | null;
  /** JSON text of the Response object. */
  response: string;
  /** JSON text of the input items. */
  input_items: string;
}

async function createResponsesTable(db: Kysely<unknown>, dialect: StorageDialect): Promise<void> {
  await db.schema
    .createTable('responses')
    .ifNotExists()
    .addColumn('id', 'varchar(128)', (column) => column.primaryKey())
    .addColumn('created_at', dialect === 'postgresql' ? 'bigint' : 'integer', (column) => column.notNull())
    .addColumn('provider', 'varchar(255)')
    .addColumn('model', 'varchar(255)')
    .addColumn('native', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('previous_response_id', 'varchar(128)')
    .addColumn('response', 'text', (column) => column.notNull())
    .addColumn('input_items', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('responses_created_at').ifNotExists().on('responses').column('created_at').execute();
}

registerMigration({ name: '20261125-20-responses', up: createResponsesTable });

function parseJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** The store over the storage layer's database (SQLite or PostgreSQL). */
export function createKyselyResponseStore(database: Kysely<unknown>): ResponseStore {
  const db = database.withTables<{ responses: ResponsesTable }>() as unknown as Kysely<{ responses: ResponsesTable }>;
  return {
    async save(stored) {
      const row: ResponsesTable = {
        id: stored.id,
        created_at: stored.createdAt,
        provider: stored.provider,
        model: stored.model,
        native: stored.native ? 1 : 0,
        previous_response_id: stored.previousResponseId,
        response: JSON.stringify(stored.response),
        input_items: JSON.stringify(stored.inputItems),
      };
      await db
        .insertInto('responses')
        .values(row)
        .onConflict((conflict) => conflict.column('id').doUpdateSet({ response: row.response, input_items: row.input_items }))
        .execute();
    },
    async get(id) {
      const row = await db.selectFrom('responses').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return null;
      return {
        id: row.id,
        createdAt: Number(row.created_at),
        provider: row.provider,
        model: row.model,
        native: Number(row.native) === 1,
        previousResponseId: row.previous_response_id,
        response: parseJson<Json>(row.response, {}),
        inputItems: parseJson<Json[]>(row.input_items, []),
      };
    },
    async delete(id) {
      const result = await db.deleteFrom('responses').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

/** Process-local store, used only when the gateway runs without storage (documented limitation). */
export function createMemoryResponseStore(limit = 1000): ResponseStore {
  const entries = new Map<string, StoredResponse>();
  return {
    async save(stored) {
      entries.delete(stored.id);
      entries.set(stored.id, structuredClone(stored));
      while (entries.size > limit) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
    },
    async get(id) {
      const found = entries.get(id);
      return found ? structuredClone(found) : null;
    },
    async delete(id) {
      return entries.delete(id);
    },
  };
}
