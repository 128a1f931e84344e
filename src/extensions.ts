/** Features that plug into the gateway at start (storage, usage, audit, admin API). */
import type { Logger } from 'pino';
import type { GatewayExtension } from './app.ts';

export function defaultExtensions(_logger: Logger): GatewayExtension[] {
  return [];
}
