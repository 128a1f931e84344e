/**
 * The gateway listens before the providers' model lists arrive, so a provider that is slow to list its
 * models (or unreachable until the 15 s list timeout) does not hold the start or the readiness probe.
 * Calls and listing endpoints that arrive in that window wait for the lists instead of failing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

// Long enough that even a loaded machine has the gateway listening well before the lists arrive.
const listDelayMs = 4_000;
let simulator: Simulator;

beforeAll(async () => {
  simulator = await startOpenAISimulator({ apiKey: 'sk-slow-list', modelsDelayMs: listDelayMs });
});

afterAll(async () => {
  await simulator?.close();
});

async function slowListingGateway(): Promise<{ running: RunningGateway }> {
  const running = await startGateway({ OPENAI_API_KEY: 'sk-slow-list', OPENAI_BASE_URL: simulator.baseUrl, SQLITE_PATH: ':memory:' }, { awaitModels: false });
  return { running };
}

describe('start before the model lists', { timeout: 30_000 }, () => {
  it('answers /health before the lists arrive, saying they are not listed yet, then listed', async () => {
    const { running } = await slowListingGateway();
    try {
      const health = (await (await fetch(`${running.url}/health`)).json()) as { status: string; models: number; models_listed: boolean };
      expect(health).toMatchObject({ status: 'ok', models: 0, models_listed: false });
      await running.gateway.registry.ready();
      const later = (await (await fetch(`${running.url}/health`)).json()) as { models: number; models_listed: boolean };
      expect(later.models_listed).toBe(true);
      expect(later.models).toBeGreaterThan(0);
    } finally {
      await running.close();
    }
  });

  it('a chat call for a bare model name and GET /v1/models in that window wait for the lists and succeed', async () => {
    const { running } = await slowListingGateway();
    try {
      expect(running.gateway.registry.listed).toBe(false);
      const [chat, models] = await Promise.all([
        fetch(`${running.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'early' }] }),
        }),
        fetch(`${running.url}/v1/models`),
      ]);
      expect(chat.status).toBe(200);
      expect(((await chat.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toContain('early');
      const listed = (await models.json()) as { data: { id: string }[] };
      expect(listed.data.map((model) => model.id)).toContain('gpt-4o-mini');
    } finally {
      await running.close();
    }
  });
});
