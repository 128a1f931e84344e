/**
 * The storage backends every storage test runs against: SQLite in a temporary directory and the real
 * PostgreSQL server (POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test) in a schema unique
 * to the run, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const postgresUrl = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface StorageBackend {
  name: 'sqlite' | 'postgresql';
  /** Environment that points a gateway at this backend. */
  env: Record<string, string>;
  /** Settings for createStorage. */
  settings: { type: 'sqlite' | 'postgresql'; sqlitePath: string; postgresUrl: string | undefined; postgresSchema?: string };
  spillDir: string;
  cleanup(): Promise<void>;
}

export function createBackend(name: 'sqlite' | 'postgresql'): StorageBackend {
  const directory = mkdtempSync(join(tmpdir(), 'modelgate-storage-'));
  const spillDir = join(directory, 'spill');
  if (name === 'sqlite') {
    const sqlitePath = join(directory, 'modelgate.db');
    return {
      name,
      env: { STORAGE_TYPE: 'sqlite', SQLITE_PATH: sqlitePath, STORAGE_SPILL_DIR: spillDir },
      settings: { type: 'sqlite', sqlitePath, postgresUrl: undefined },
      spillDir,
      async cleanup() {
        rmSync(directory, { recursive: true, force: true });
      },
    };
  }
  const schema = `modelgate_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  return {
    name,
    env: { STORAGE_TYPE: 'postgresql', POSTGRES_URL: postgresUrl, POSTGRES_SCHEMA: schema, STORAGE_SPILL_DIR: spillDir },
    settings: { type: 'postgresql', sqlitePath: join(directory, 'unused.db'), postgresUrl, postgresSchema: schema },
    spillDir,
    async cleanup() {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      try {
        await client.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await client.end();
      }
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
