/**
 * Files owned by gateway keys: a caller sees, reads and deletes only the files its key uploaded (or its batches
 * produced); any other id is "not found", whether it exists or not.
 */
import { createHash, randomBytes } from 'node:crypto';
import { GatewayError } from '../core/errors.ts';
import type { Storage } from '../storage/database.ts';
import type { FilesDatabase, GatewayFileTable } from './file-table.ts';
import './file-table.ts';

type Json = Record<string, unknown>;

export interface StoredFile {
  id: string;
  owner: string;
  provider: string;
  providerFileId: string;
  filename: string;
  purpose: string;
  bytes: number;
  status: string;
  createdAt: number;
  object: Json;
}

export interface FileListQuery {
  purpose?: string | undefined;
  provider?: string | undefined;
  /** 1..10000 (OpenAI's range). */
  limit: number;
  order: 'asc' | 'desc';
  after?: string | undefined;
}

export interface FileStore {
  /** Stores a file; with an `id` given, a file already stored under it is kept (replicas registering the same file). */
  add(file: Omit<StoredFile, 'id' | 'createdAt'> & { id?: string; createdAt?: number }): Promise<StoredFile>;
  /** The caller's file, or a 404 GatewayError. */
  get(owner: string, id: string): Promise<StoredFile>;
  /** The file a provider id maps to for this owner, if the gateway knows it. */
  findByProviderId(owner: string, provider: string, providerFileId: string): Promise<StoredFile | undefined>;
  update(file: StoredFile): Promise<void>;
  list(owner: string, query: FileListQuery): Promise<{ files: StoredFile[]; hasMore: boolean }>;
  remove(owner: string, id: string): Promise<void>;
}

/** The gateway id of a file a provider produced (batch output) for an owner: the same on every replica. */
export function producedFileId(owner: string, provider: string, providerFileId: string): string {
  return `file-mg${createHash('sha256').update(`${owner}\u0000${provider}\u0000${providerFileId}`).digest('base64url').replace(/[-_]/g, 'x').slice(0, 24)}`;
}

/** `file-mg` and 24 random characters: never a provider's id, never guessable. */
export function newFileId(): string {
  return `file-mg${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x')}`;
}

export function ownerOf(keyId: string | null): string {
  return keyId ?? '';
}

export function fileNotFound(id: string): GatewayError {
  return new GatewayError(`No such File object: ${id}`, { status: 404, code: 'file_not_found', param: 'file_id', retryable: false });
}

function fromRow(row: GatewayFileTable): StoredFile {
  return {
    id: row.id,
    owner: row.key_id,
    provider: row.provider,
    providerFileId: row.provider_file_id,
    filename: row.filename,
    purpose: row.purpose,
    bytes: Number(row.bytes),
    status: row.status,
    createdAt: Number(row.created_at),
    object: JSON.parse(row.object_json) as Json,
  };
}

function toRow(file: StoredFile): GatewayFileTable {
  return {
    id: file.id,
    key_id: file.owner,
    provider: file.provider,
    provider_file_id: file.providerFileId,
    filename: file.filename,
    purpose: file.purpose,
    bytes: file.bytes,
    status: file.status,
    created_at: file.createdAt,
    object_json: JSON.stringify(file.object),
  };
}

export function createFileStore(storage: Storage): FileStore {
  const db = storage.db.withTables<{ gateway_files: GatewayFileTable }>() as unknown as FilesDatabase;
  return {
    async add(file) {
      const stored: StoredFile = { ...file, id: file.id ?? newFileId(), createdAt: file.createdAt ?? Date.now() };
      await db
        .insertInto('gateway_files')
        .values(toRow(stored))
        .onConflict((conflict) => conflict.column('id').doNothing())
        .execute();
      return stored;
    },
    async get(owner, id) {
      const row = await db.selectFrom('gateway_files').selectAll().where('id', '=', id).where('key_id', '=', owner).executeTakeFirst();
      if (!row) throw fileNotFound(id);
      return fromRow(row);
    },
    async findByProviderId(owner, provider, providerFileId) {
      const row = await db
        .selectFrom('gateway_files')
        .selectAll()
        .where('key_id', '=', owner)
        .where('provider', '=', provider)
        .where('provider_file_id', '=', providerFileId)
        .executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async update(file) {
      const { id: _id, key_id: _owner, ...rest } = toRow(file);
      await db.updateTable('gateway_files').set(rest).where('id', '=', file.id).where('key_id', '=', file.owner).execute();
    },
    async list(owner, query) {
      let select = db.selectFrom('gateway_files').selectAll().where('key_id', '=', owner);
      if (query.purpose) select = select.where('purpose', '=', query.purpose);
      if (query.provider) select = select.where('provider', '=', query.provider);
      if (query.after) {
        const cursor = await db
          .selectFrom('gateway_files')
          .select(['created_at', 'id'])
          .where('id', '=', query.after)
          .where('key_id', '=', owner)
          .executeTakeFirst();
        if (!cursor) throw fileNotFound(query.after);
        const createdAt = Number(cursor.created_at);
        const comparison = query.order === 'asc' ? '>' : '<';
        select = select.where((where) =>
          where.or([
            where('created_at', comparison, createdAt),
            where.and([where('created_at', '=', createdAt), where('id', comparison, cursor.id)]),
          ]),
        );
      }
      const rows = await select
        .orderBy('created_at', query.order)
        .orderBy('id', query.order)
        .limit(query.limit + 1)
        .execute();
      return { files: rows.slice(0, query.limit).map(fromRow), hasMore: rows.length > query.limit };
    },
    async remove(owner, id) {
      await db.deleteFrom('gateway_files').where('id', '=', id).where('key_id', '=', owner).execute();
    },
  };
}
