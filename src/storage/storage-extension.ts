/** Opens the database at start (running migrations) and puts it on `gateway.storage`; closes it last. */
import type { GatewayExtension } from '../app.ts';
import { createStorage } from './database.ts';

export function createStorageExtension(): GatewayExtension {
  return async (gateway) => {
    if (gateway.storage) return;
    const storage = await createStorage(gateway.config.storage);
    gateway.storage = storage;
    // Registered first, so it runs after every writer registered later has flushed.
    gateway.onClose(() => storage.close());
  };
}
