/**
 * The Responses API's response store: a store that fails (reads 503, creations still answered), the Kysely
 * store on SQLite and PostgreSQL, and previous_response_id continued through PostgreSQL storage, with the
 * official `openai` SDK against the Groq-flavoured simulator (the API itself: responses.test.ts).
 */
import OpenAI from 'openai';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKyselyResponseStore } from '../src/responses/response-store.ts';
import { createResponsesExtension } from '../src/responses/responses-extension.ts';
import { createStorage } from '../src/storage/database.ts';
import { createStorageExtension } from '../src/storage/storage-extension.ts';
import { startGateway } from './helpers/start-gateway.ts';
import { createBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

let groq: Simulator;

beforeAll(async () => {
  groq = await startOpenAISimulator({ flavor: 'groq', apiKey: 'gsk-groq', models: ['llama-3.3-70b'] });
});

afterAll(async () => {
  await groq?.close();
});

describe('Responses API when the store fails', () => {
  it('answers 503 for reads, and still answers creations', async () => {
    const broken = new Error('database is down');
    const failing = { save: () => Promise.reject(broken), get: () => Promise.reject(broken), delete: () => Promise.reject(broken) };
    const gateway = await startGateway(
      { GROQ_API_KEY: 'gsk-groq', GROQ_BASE_URL: groq.baseUrl },
      { extensions: [createResponsesExtension(pino({ level: 'silent' }), { store: failing })] },
    );
    try {
      const failingClient = new OpenAI({ apiKey: 'unused', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
      const created = await failingClient.responses.create({ model: 'llama-3.3-70b', input: 'still works' });
      expect(created.output_text).toBe('Hello from groq: still works');
      await expect(failingClient.responses.retrieve(created.id)).rejects.toMatchObject({ status: 503, code: 'storage_unavailable' });
      await expect(
        failingClient.responses.create({ model: 'llama-3.3-70b', input: 'x', previous_response_id: created.id }),
      ).rejects.toMatchObject({ status: 503 });
    } finally {
      await gateway.close();
    }
  });
});

describe.each(['sqlite', 'postgresql'] as const)('response store on %s', (backendName) => {
  it('saves, reads, replaces and deletes responses', async () => {
    const backend = createBackend(backendName);
    const storage = await createStorage(backend.settings);
    try {
      const store = createKyselyResponseStore(storage.db as never);
      const stored = {
        id: 'resp_store_test',
        createdAt: 1_764_000_000_123,
        provider: 'groq',
        model: 'llama',
        native: true,
        previousResponseId: 'resp_before',
        response: {
          id: 'resp_store_test',
          object: 'response',
          output: [{ type: 'message', content: [{ type: 'output_text', text: 'héllo' }] }],
        },
        inputItems: [{ id: 'msg_1', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }],
      };
      await store.save(stored);
      expect(await store.get('resp_store_test')).toEqual(stored);
      await store.save({ ...stored, response: { ...stored.response, status: 'completed' } });
      expect((await store.get('resp_store_test'))?.response.status).toBe('completed');
      expect(await store.get('resp_missing')).toBeNull();
      expect(await store.delete('resp_store_test')).toBe(true);
      expect(await store.delete('resp_store_test')).toBe(false);
    } finally {
      await storage.close();
      await backend.cleanup();
    }
  });
});

describe('Responses API on PostgreSQL storage', () => {
  it('creates, continues and retrieves responses stored in PostgreSQL', async () => {
    const backend = createBackend('postgresql');
    const logger = pino({ level: 'silent' });
    const gateway = await startGateway(
      { GROQ_API_KEY: 'gsk-groq', GROQ_BASE_URL: groq.baseUrl, ...backend.env },
      { extensions: [createStorageExtension(), createResponsesExtension(logger)] },
    );
    try {
      const pgClient = new OpenAI({ apiKey: 'unused', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
      const first = await pgClient.responses.create({ model: 'llama-3.3-70b', input: 'Remember red' });
      const second = await pgClient.responses.create({ model: 'llama-3.3-70b', previous_response_id: first.id, input: 'Colour?' });
      expect(((groq.requests.at(-1)?.body?.messages ?? []) as unknown[]).length).toBe(3);
      expect((await pgClient.responses.retrieve(second.id)).output_text).toBe('Hello from groq: Colour?');
      expect((await pgClient.responses.inputItems.list(first.id)).data).toHaveLength(1);
    } finally {
      await gateway.close();
      await backend.cleanup();
    }
  });
});
