/**
 * Semantic vectors in PostgreSQL with pgvector (https://github.com/pgvector/pgvector), in the
 * gateway's own database (STORAGE_TYPE=postgresql), so that every replica finds every stored prompt.
 * One table per embedding size (`cache_vectors_<n>`, created on first use), cosine distance (`<=>`).
 * The search is exact within a scope (a b-tree on scope and expiry narrows the rows; no approximate
 * index, whose filtering after the scan could drop the nearest rows of a small scope). Expired rows
 * are deleted every few hundred inserts.
 *
 * `openPgvectorStore` runs `CREATE EXTENSION IF NOT EXISTS vector` and throws when the server does not
 * have the extension (or the role may not create it): the caller then falls back (cache-extension.ts).
 */
import { type Kysely, sql } from 'kysely';
import { checkDimensions, type VectorStore } from './vector-store.ts';

const tablePrefix = 'cache_vectors_';

interface PostgresError {
  code?: string;
}

/** Errors of a concurrent `create ... if not exists` by another replica: the object exists. */
function isConcurrentCreate(error: unknown): boolean {
  const code = (error as PostgresError)?.code;
  return code === '23505' || code === '42P07' || code === '42710';
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

export async function openPgvectorStore(db: Kysely<unknown>, now: () => number = Date.now): Promise<VectorStore> {
  try {
    await sql`create extension if not exists vector`.execute(db);
  } catch (error) {
    if (!isConcurrentCreate(error)) throw error;
  }
  // The extension may live in another schema than ours (installed by an administrator): name it.
  const located = await sql<{
    schema: string;
  }>`select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'vector'`.execute(db);
  const extensionSchema = located.rows[0]?.schema;
  if (!extensionSchema) throw new Error('the vector extension is not installed');
  const vectorType = (dimensions: number) => sql.raw(`${quote(extensionSchema)}.vector(${dimensions})`);
  const distance = sql.raw(`operator(${quote(extensionSchema)}.<=>)`);
  const tableOf = (dimensions: number) => sql.raw(quote(`${tablePrefix}${dimensions}`));
  const literal = (embedding: number[]) => `[${embedding.join(',')}]`;

  const tables = async (): Promise<number[]> => {
    const result = await sql<{ name: string }>`select table_name as name from information_schema.tables
      where table_schema = current_schema() and table_name like ${`${tablePrefix}%`}`.execute(db);
    return result.rows
      .map((row) => Number(row.name.slice(tablePrefix.length)))
      .filter((dimensions) => Number.isSafeInteger(dimensions) && dimensions > 0);
  };
  const known = new Set(await tables());
  const ensure = async (dimensions: number) => {
    if (known.has(dimensions)) return;
    try {
      await sql`create table if not exists ${tableOf(dimensions)} (
        id bigserial primary key, scope text not null, embedding ${vectorType(dimensions)} not null,
        expires_at bigint not null, entry_key text not null, prompt text not null)`.execute(db);
      await sql`create index if not exists ${sql.raw(quote(`${tablePrefix}${dimensions}_scope`))} on ${tableOf(dimensions)} (scope, expires_at)`.execute(
        db,
      );
    } catch (error) {
      if (!isConcurrentCreate(error)) throw error;
    }
    known.add(dimensions);
  };
  let inserts = 0;

  return {
    kind: 'pgvector',
    async search(scope, embedding, limit) {
      const dimensions = checkDimensions(embedding);
      // Another replica may have created the table since start.
      if (!known.has(dimensions) && !(await tables()).includes(dimensions)) return [];
      known.add(dimensions);
      const probe = sql`${literal(embedding)}::${vectorType(dimensions)}`;
      const result = await sql<{ entry_key: string; prompt: string; distance: number }>`
        select entry_key, prompt, embedding ${distance} ${probe} as distance from ${tableOf(dimensions)}
        where scope = ${scope} and expires_at > ${now()} order by distance limit ${limit}`.execute(db);
      return result.rows.map((row) => ({ entryKey: row.entry_key, prompt: row.prompt, similarity: 1 - Number(row.distance) }));
    },
    async insert(row) {
      const dimensions = checkDimensions(row.embedding);
      await ensure(dimensions);
      await sql`insert into ${tableOf(dimensions)} (scope, embedding, expires_at, entry_key, prompt)
        values (${row.scope}, ${literal(row.embedding)}::${vectorType(dimensions)}, ${Math.floor(row.expiresAt)}, ${row.entryKey}, ${row.prompt})`.execute(
        db,
      );
      if (++inserts % 500 === 0) {
        for (const size of known) await sql`delete from ${tableOf(size)} where expires_at <= ${now()}`.execute(db);
      }
    },
    async purge() {
      for (const size of await tables()) await sql`delete from ${tableOf(size)}`.execute(db);
    },
    async close() {
      // The database handle belongs to the storage, which closes it.
    },
  };
}
