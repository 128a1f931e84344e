/**
 * A gateway on one storage backend, in front of the OpenAI simulator, whose usage table starts with the rows a
 * test seeded: for admin usage queries checked against known rows, and real calls added on top.
 * Registers its own beforeAll/afterAll; read `url` inside tests.
 */
import { afterAll, beforeAll } from 'vitest';
import type { UsageTable } from '../../src/storage/database.ts';
import { type Simulator, startOpenAISimulator } from '../simulators/openai-simulator.ts';
import { type RunningGateway, startGateway } from './start-gateway.ts';
import { createBackend, type StorageBackend } from './storage-backends.ts';

export interface SeededUsageGateway {
  /** The gateway's base URL (set once beforeAll has run). */
  readonly url: string;
}

export function useSeededUsageGateway(
  backendName: 'sqlite' | 'postgresql',
  options: { apiKey: string; models: string[]; masterKey: string; rows: UsageTable[] },
): SeededUsageGateway {
  let backend: StorageBackend | undefined;
  let simulator: Simulator | undefined;
  let running: RunningGateway | undefined;
  beforeAll(async () => {
    backend = createBackend(backendName);
    simulator = await startOpenAISimulator({ apiKey: options.apiKey, models: options.models });
    running = await startGateway({
      ...backend.env,
      OPENAI_API_KEY: options.apiKey,
      OPENAI_BASE_URL: simulator.baseUrl,
      MODELGATE_MASTER_KEY: options.masterKey,
    });
    await running.gateway.storage?.insertIgnoringDuplicates('usage', options.rows);
  });
  afterAll(async () => {
    await running?.close();
    await simulator?.close();
    await backend?.cleanup();
  });
  return {
    get url() {
      if (!running) throw new Error('the seeded gateway is not started yet (read url inside a test)');
      return running.url;
    },
  };
}
