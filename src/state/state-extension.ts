/**
 * Opens the shared state at start and puts it on `gateway.state`; says in the log when Redis becomes
 * unreachable and when it is back; closes it at shutdown.
 */
import type { Logger } from 'pino';
import type { GatewayExtension } from '../app.ts';
import { createSharedState } from './create-shared-state.ts';

export function createStateExtension(logger: Logger): GatewayExtension {
  return async (gateway) => {
    if (gateway.state) return;
    let lastError = '';
    const state = await createSharedState(gateway.config.state, (error) => {
      const message = error instanceof Error ? error.message : String(error);
      if (message !== lastError) logger.debug({ reason: message }, 'shared state connection error');
      lastError = message;
    });
    if (state.kind === 'redis' && !state.available) {
      logger.error('shared state: Redis (REDIS_URL) is unreachable at start; retrying in the background');
    }
    state.onAvailabilityChange((available) => {
      if (available) logger.warn('shared state: Redis is reachable again');
      else logger.error('shared state: Redis is unreachable; rate limits follow RATE_LIMIT_FAIL_MODE, budgets refuse calls');
    });
    gateway.state = state;
    gateway.onClose(() => state.close());
  };
}
