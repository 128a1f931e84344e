/**
 * Two gateway processes (`node src/main.ts`) sharing one Redis and one PostgreSQL enforce one rate limit
 * together, not one per replica: 200 concurrent calls spread over both admit exactly the key's limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, startGatewayProcess } from './helpers/gateway-process.ts';
import { createStateBackend, type StateBackend } from './helpers/state-backends.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'governance-replicas-master-key';

describe('governance across two replicas sharing Redis and PostgreSQL', { timeout: 90_000 }, () => {
  let storage: StorageBackend;
  let state: StateBackend;
  let simulator: Simulator;
  let replicas: GatewayProcess[] = [];
  let urls: string[] = [];

  const chat = (url: string, key: string, model = 'gpt-4o-mini') =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
    }).then(async (response) => ({ status: response.status, body: (await response.json()) as { error?: { code: string } } }));
  const admin = async (url: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}/admin/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  /** Waits until every replica knows a key (GET /v1/models authenticates without going through the limits). */
  const knownEverywhere = async (secret: string) => {
    for (const url of urls) {
      await expect
        .poll(async () => (await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${secret}` } })).status, { timeout: 10_000, interval: 100 })
        .toBe(200);
    }
  };

  beforeAll(async () => {
    storage = createBackend('postgresql');
    state = createStateBackend('redis');
    simulator = await startOpenAISimulator({ apiKey: 'sk-governance-upstream' });
    const env = {
      ...storage.env,
      ...state.env,
      OPENAI_API_KEY: 'sk-governance-upstream',
      OPENAI_BASE_URL: simulator.baseUrl,
      MODELGATE_MASTER_KEY: masterKey,
      RETRY_MAX_RETRIES: '0',
    };
    // The first replica runs the migrations; the second starts on the migrated schema.
    replicas = [startGatewayProcess(env)];
    urls = [await replicas[0]!.ready()];
    replicas.push(startGatewayProcess(env));
    urls.push(await replicas[1]!.ready());
  }, 150_000);

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await simulator?.close();
    await state?.cleanup();
    await storage?.cleanup();
  });

  it('a limit of N requests per window admits exactly N of 200 concurrent calls across both replicas', async () => {
    const limit = 25;
    const created = await admin(urls[0] as string, 'POST', '/keys', { name: 'shared limit', rate_limits: { requests_per_day: limit } });
    expect(created.status).toBe(201);
    const secret = created.body.key as string;
    await knownEverywhere(secret);
    const upstreamBefore = simulator.requests.length;
    const results = await Promise.all(Array.from({ length: 200 }, (_unused, index) => chat(urls[index % 2] as string, secret)));
    const admitted = results.filter((result) => result.status === 200);
    const refused = results.filter((result) => result.status === 429);
    expect(admitted.length).toBe(limit);
    expect(refused.length).toBe(200 - limit);
    expect(new Set(refused.map((result) => result.body.error?.code))).toEqual(new Set(['rate_limit_exceeded']));
    // Both replicas admitted some: the limit is one window, not one per process.
    const perReplica = [0, 1].map((replica) => results.filter((result, index) => index % 2 === replica && result.status === 200).length);
    expect(perReplica[0]! + perReplica[1]!).toBe(limit);
    expect(simulator.requests.length - upstreamBefore).toBe(limit);
  });
});
