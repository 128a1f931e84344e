/**
 * Redis stopped and restarted under gateways with rate limits: RATE_LIMIT_FAIL_MODE=open lets calls
 * through while it is down, closed refuses them with 503 shared_state_unavailable; both count again by
 * themselves once Redis is back, and the metric says how many calls met the outage.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type OwnRedis, startOwnRedis, waitFor } from './helpers/redis-server.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'outage-master-key';
let redis: OwnRedis;
let simulator: Simulator;
const backends: StorageBackend[] = [];
const gateways: Record<'open' | 'closed', RunningGateway> = {} as never;

beforeAll(async () => {
  redis = await startOwnRedis();
  simulator = await startOpenAISimulator({ apiKey: 'sk-outage' });
  for (const mode of ['open', 'closed'] as const) {
    const backend = createBackend('sqlite');
    backends.push(backend);
    gateways[mode] = await startGateway({
      ...backend.env,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `outage-${mode}:`,
      OPENAI_API_KEY: 'sk-outage',
      OPENAI_BASE_URL: simulator.baseUrl,
      MODELGATE_MASTER_KEY: masterKey,
      RATE_LIMIT_GLOBAL_RPD: '3',
      RATE_LIMIT_FAIL_MODE: mode,
    });
  }
}, 60_000);

afterAll(async () => {
  for (const running of Object.values(gateways)) await running?.close();
  await simulator?.close();
  await redis?.stop();
  for (const backend of backends) await backend.cleanup();
});

async function chat(running: RunningGateway): Promise<{ status: number; code: string | undefined }> {
  const response = await fetch(`${running.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
  });
  const body = (await response.json()) as { error?: { code: string } };
  return { status: response.status, code: body.error?.code };
}

it('open lets calls through while Redis is down, closed refuses them; both limit again once it is back', { timeout: 60_000 }, async () => {
  for (const running of Object.values(gateways)) {
    expect((await chat(running)).status).toBe(200);
    expect((await chat(running)).status).toBe(200);
  }
  await redis.stop();
  await waitFor(() => Object.values(gateways).every((running) => running.gateway.state?.available === false));
  for (let index = 0; index < 3; index++) {
    expect(await chat(gateways.open)).toEqual({ status: 200, code: undefined });
    expect(await chat(gateways.closed)).toEqual({ status: 503, code: 'shared_state_unavailable' });
  }
  const metrics = await (await fetch(`${gateways.open.url}/metrics`, { headers: { authorization: `Bearer ${masterKey}` } })).text();
  expect(metrics).toMatch(/modelgate_governance_state_errors_total\{feature="rate_limit"\} 3/);

  await redis.start();
  await waitFor(() => Object.values(gateways).every((running) => running.gateway.state?.available === true));
  // Redis restarted empty (no persistence): each gateway has its 3 requests of the day again, then is refused.
  for (const running of Object.values(gateways)) {
    for (let index = 0; index < 3; index++) expect((await chat(running)).status).toBe(200);
    expect(await chat(running)).toEqual({ status: 429, code: 'rate_limit_exceeded' });
  }
});
