/** Entry point: `node src/main.ts`. Loads config, starts the gateway, shuts down cleanly on SIGTERM/SIGINT. */
import { pino } from 'pino';
import { createGateway } from './app.ts';
import { ConfigError } from './config/config-error.ts';
import { loadConfig } from './config/load-config.ts';
import { scheduleAfterStart } from './core/after-start.ts';
import { defaultExtensions } from './extensions.ts';
import { createScrubbingDestination } from './security/scrubbing-log-destination.ts';
import { configuredSecrets, processScrubber } from './security/secret-scrubber.ts';

const bootLogger = pino(
  { level: process.env.LOG_LEVEL ?? 'info' },
  createScrubbingDestination(processScrubber, pino.destination({ dest: 1, sync: true })),
);

async function main(): Promise<void> {
  const startedAt = performance.now();
  const config = loadConfig();
  processScrubber.add(configuredSecrets(config));
  const logger = pino(
    { level: config.logLevel, redact: ['*.apiKey', '*.masterKey', 'config.providers[*].apiKey'] },
    createScrubbingDestination(processScrubber, pino.destination({ dest: 1, sync: true })),
  );
  if (!config.masterKey) {
    logger.warn(
      `MODELGATE_MASTER_KEY is not set: the gateway accepts every request without authentication. ` +
        `Listening on ${config.host} only; set MODELGATE_MASTER_KEY before exposing it.`,
    );
  }
  if (config.providers.length === 0) {
    logger.warn('No provider is configured: set OPENAI_API_KEY (or another provider key, see README) to serve models.');
  }
  const gateway = await createGateway(config, logger, defaultExtensions(logger));
  const address = await gateway.listen();
  logger.info(
    {
      address,
      providers: config.providers.map((provider) => `${provider.name} (${provider.type})`),
      startupMs: Math.round(performance.now() - startedAt),
    },
    'modelgate listening',
  );
  scheduleAfterStart(gateway.http.server, { collectGarbage: config.startupGc }, (result) =>
    logger.debug({ ...result, startupGc: config.startupGc }, result.collected ? 'start-up memory released' : 'start-up memory kept'),
  );
  void gateway.registry.ready().then(() =>
    logger.info(
      {
        models: gateway.registry.list().length,
        providersWithoutModels: Object.keys(gateway.registry.failures()),
        listedMs: Math.round(performance.now() - startedAt),
      },
      'models listed',
    ),
  );
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: draining requests and flushing records');
    const force = setTimeout(() => {
      logger.error('shutdown took longer than 30 s; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    gateway
      .close()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  // A bug in one request must not take every other request down with it.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    bootLogger.fatal(error.message);
  } else {
    bootLogger.fatal({ err: error }, 'modelgate failed to start');
  }
  process.exit(1);
});
