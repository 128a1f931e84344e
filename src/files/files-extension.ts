/** Registers the Files API (`/v1/files`) over the configured providers that have one. */
import type { GatewayExtension } from '../app.ts';
import { createFileStore } from './file-store.ts';
import { createFileTargets } from './file-targets.ts';
import { createFilesRoutes } from './files-routes.ts';
import './files-openapi.ts';

export function createFilesExtension(): GatewayExtension {
  return (gateway) => {
    if (!gateway.storage) throw new Error('the storage extension must run before the files extension');
    gateway.addRoutes(
      createFilesRoutes({
        config: gateway.config.files,
        targets: createFileTargets(gateway.config.providers),
        store: createFileStore(gateway.storage),
        client: gateway.client,
      }),
    );
  };
}
