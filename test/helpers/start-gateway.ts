/**
 * Starts a real gateway in-process on a free port, configured only by the environment it is given.
 * Retries and circuit breakers (on by default in production) are off unless a test sets
 * RETRY_MAX_RETRIES or CIRCUIT_BREAKER_FAILURE_THRESHOLD, so that a test of an upstream failure sees
 * it at once instead of after backoff.
 */
import { pino } from 'pino';
import { createGateway, type Gateway, type GatewayExtension } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { defaultExtensions } from '../../src/extensions.ts';

export interface RunningGateway {
  url: string;
  gateway: Gateway;
  close(): Promise<void>;
}

export async function startGateway(
  env: Record<string, string | undefined>,
  options: { extensions?: GatewayExtension[]; cwd?: string; awaitModels?: boolean } = {},
): Promise<RunningGateway> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', RETRY_MAX_RETRIES: '0', CIRCUIT_BREAKER_FAILURE_THRESHOLD: '0', ...env }, options.cwd ?? '/nonexistent-config-dir');
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const gateway = await createGateway(config, logger, options.extensions ?? defaultExtensions(logger));
  const url = await gateway.listen();
  // The gateway listens before the providers' model lists arrive; tests start from a listed state
  // (test/start-before-models.test.ts covers the window before).
  if (options.awaitModels !== false) await gateway.registry.ready();
  return { url, gateway, close: () => gateway.close() };
}
