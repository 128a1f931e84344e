/**
 * A real PostgreSQL with pgvector for tests: PGlite (PostgreSQL compiled to WebAssembly) with the
 * pgvector extension (@electric-sql/pglite-pgvector), served over the PostgreSQL wire protocol on a
 * loopback port by @electric-sql/pglite-socket, so the gateway reaches it with `pg` as it would any
 * server. One in-memory database per call; PGlite is one session, multiplexed by the socket server,
 * so use the default schema (a `set search_path` would change it for every connection).
 */
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface PgliteServer {
  /** postgres:// URL of the database. */
  url: string;
  stop(): Promise<void>;
}

export async function startPgliteServer(): Promise<PgliteServer> {
  const db = await PGlite.create({ extensions: { vector } });
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 32 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
