/**
 * Semantic vectors in SQLite with sqlite-vec (https://github.com/asg017/sqlite-vec, loaded into
 * better-sqlite3): one vec0 table per embedding size, partitioned by scope, cosine distance, with the
 * expiry as a metadata column (filtered inside the KNN query) and the prompt and entry key as auxiliary
 * columns. Expired rows are deleted every few hundred inserts.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3, { type Database as SqliteDatabase } from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { checkDimensions, type VectorStore } from './vector-store.ts';

export function createSqliteVecStore(sqlitePath: string, now: () => number = Date.now): VectorStore {
  if (sqlitePath !== ':memory:') mkdirSync(dirname(sqlitePath), { recursive: true });
  const database: SqliteDatabase = new BetterSqlite3(sqlitePath);
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000');
  sqliteVec.load(database);
  const tableOf = (dimensions: number) => `cache_vectors_${dimensions}`;
  const known = new Set<number>(
    (
      database.prepare("select name from sqlite_master where name like 'cache_vectors_%' and sql like 'CREATE VIRTUAL TABLE%'").all() as {
        name: string;
      }[]
    )
      .map((row) => Number(row.name.slice('cache_vectors_'.length)))
      .filter((dimensions) => Number.isSafeInteger(dimensions)),
  );
  const ensure = (dimensions: number) => {
    if (known.has(dimensions)) return;
    database.exec(
      `create virtual table if not exists ${tableOf(dimensions)} using vec0(scope text partition key, embedding float[${dimensions}] distance_metric=cosine, expires_at integer, +entry_key text, +prompt text)`,
    );
    known.add(dimensions);
  };
  let inserts = 0;
  return {
    kind: 'sqlite-vec',
    async search(scope, embedding, limit) {
      const dimensions = checkDimensions(embedding);
      if (!known.has(dimensions)) return [];
      const rows = database
        .prepare(
          `select entry_key, prompt, distance from ${tableOf(dimensions)} where embedding match ? and k = ? and scope = ? and expires_at > ? order by distance`,
        )
        .all(new Float32Array(embedding), limit, scope, BigInt(now())) as { entry_key: string; prompt: string; distance: number }[];
      return rows.map((row) => ({ entryKey: row.entry_key, prompt: row.prompt, similarity: 1 - row.distance }));
    },
    async insert(row) {
      const dimensions = checkDimensions(row.embedding);
      ensure(dimensions);
      database
        .prepare(`insert into ${tableOf(dimensions)} (scope, embedding, expires_at, entry_key, prompt) values (?, ?, ?, ?, ?)`)
        .run(row.scope, new Float32Array(row.embedding), BigInt(Math.floor(row.expiresAt)), row.entryKey, row.prompt);
      if (++inserts % 500 === 0) {
        for (const size of known) database.prepare(`delete from ${tableOf(size)} where expires_at <= ?`).run(BigInt(now()));
      }
    },
    async purge() {
      for (const size of known) database.exec(`delete from ${tableOf(size)}`);
    },
    async close() {
      database.close();
    },
  };
}
