/**
 * The environment of a gateway with the exact response cache on, over an OpenAI simulator, with its
 * SQLite storage (and so the embedded cache's file) in `directory`: what the cache tests start from.
 */
import { join } from 'node:path';

export function cacheGatewayEnv(options: {
  directory: string;
  upstreamUrl: string;
  upstreamKey: string;
  masterKey: string;
}): Record<string, string> {
  return {
    OPENAI_API_KEY: options.upstreamKey,
    OPENAI_BASE_URL: options.upstreamUrl,
    MODELGATE_MASTER_KEY: options.masterKey,
    STORAGE_TYPE: 'sqlite',
    SQLITE_PATH: join(options.directory, 'modelgate.db'),
    STORAGE_SPILL_DIR: join(options.directory, 'spill'),
    RESPONSE_CACHE_SIMPLE_ENABLED: 'true',
  };
}
