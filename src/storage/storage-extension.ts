/** Opens the database at start (running migrations) and puts it on `gateway.storage`; closes it last. */
import type { GatewayExtension } from '../app.ts';
import { ConfigError } from '../config/config-error.ts';
import { createStorage } from './database.ts';

/** Where the database is, for messages: the SQLite path, or the PostgreSQL host/port/database without credentials. */
function describeLocation(storage: { type: string; sqlitePath: string; postgresUrl: string | undefined }): string {
  if (storage.type !== 'postgresql') return storage.sqlitePath;
  try {
    const url = new URL(storage.postgresUrl ?? '');
    return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

export function createStorageExtension(): GatewayExtension {
  return async (gateway) => {
    if (gateway.storage) return;
    let storage: Awaited<ReturnType<typeof createStorage>>;
    try {
      storage = await createStorage(gateway.config.storage);
    } catch (error) {
      const key = gateway.config.storage.type === 'postgresql' ? 'POSTGRES_URL' : 'SQLITE_PATH';
      const reason = error instanceof Error ? error.message : String(error);
      throw new ConfigError(
        key,
        `cannot open the ${gateway.config.storage.type} database at ${describeLocation(gateway.config.storage)}: ${reason}`,
      );
    }
    gateway.storage = storage;
    // Registered first, so it runs after every writer registered later has flushed.
    gateway.onClose(() => storage.close());
  };
}
