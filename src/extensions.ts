/** Features that plug into the gateway at start (storage, usage, audit, admin API). */
import type { Logger } from 'pino';
import type { GatewayExtension } from './app.ts';
import { createResponsesExtension } from './responses/responses-extension.ts';

export function defaultExtensions(logger: Logger): GatewayExtension[] {
  return [createResponsesExtension(logger)];
}
