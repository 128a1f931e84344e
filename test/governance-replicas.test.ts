/**
 * Two gateway processes (`node src/main.ts`) sharing one Redis and one PostgreSQL enforce one rate limit
 * and one budget together, not one per replica: 200 concurrent calls spread over both admit exactly the
 * key's limit; 200 concurrent calls against a tiny budget created on one replica never spend past it (the
 * recorded costs in PostgreSQL sum to at most the budget, and the shared counter equals that sum).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatOnReplica, createAdminCaller, type ReplicaSet, startReplicaSet } from './helpers/replica-set.ts';
import { createStateBackend, type StateBackend } from './helpers/state-backends.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'governance-replicas-master-key';

describe('governance across two replicas sharing Redis and PostgreSQL', { timeout: 90_000 }, () => {
  let storage: StorageBackend;
  let state: StateBackend;
  let simulator: Simulator;
  let replicas: ReplicaSet | undefined;
  let urls: string[] = [];

  const chat = (url: string, key: string, model = 'gpt-4o-mini') => chatOnReplica(url, key, model, 'hello', { max_tokens: 20 });
  const admin = createAdminCaller(masterKey);
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
    replicas = await startReplicaSet({
      ...storage.env,
      ...state.env,
      OPENAI_API_KEY: 'sk-governance-upstream',
      OPENAI_BASE_URL: simulator.baseUrl,
      MODELGATE_MASTER_KEY: masterKey,
      RETRY_MAX_RETRIES: '0',
    });
    urls = replicas.urls;
  }, 150_000);

  afterAll(async () => {
    await replicas?.stop();
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

  it('a budget created on one replica holds on both: 200 concurrent calls never spend past it', async () => {
    const created = await admin(urls[0] as string, 'POST', '/keys', { name: 'shared budget' });
    const secret = created.body.key as string;
    const keyId = created.body.id as string;
    await knownEverywhere(secret);
    const limit = 0.0002;
    const budget = await admin(urls[1] as string, 'POST', '/budgets', { scope: 'key', subject: keyId, limit_usd: limit, period: 'daily' });
    expect(budget.status).toBe(201);
    const budgetId = budget.body.id as string;
    await expect.poll(async () => (await admin(urls[0] as string, 'GET', `/budgets/${budgetId}`)).status, { timeout: 10_000, interval: 100 }).toBe(200);
    const results = await Promise.all(Array.from({ length: 200 }, (_unused, index) => chat(urls[index % 2] as string, secret)));
    const admitted = results.filter((result) => result.status === 200).length;
    const refused = results.filter((result) => result.status === 429);
    expect(admitted).toBeGreaterThan(0);
    expect(admitted + refused.length).toBe(200);
    expect(new Set(refused.map((result) => result.body.error?.code))).toEqual(new Set(['budget_exceeded']));
    let summary: { requests: number; cost_usd: number } = { requests: 0, cost_usd: 0 };
    await expect
      .poll(
        async () => {
          const response = await fetch(`${urls[0]}/admin/api/v1/usage/summary?key_id=${keyId}&status=200`, { headers: { authorization: `Bearer ${masterKey}` } });
          summary = (await response.json()) as typeof summary;
          return summary.requests;
        },
        { timeout: 20_000, interval: 200 },
      )
      .toBe(admitted);
    expect(summary.cost_usd).toBeGreaterThan(0);
    expect(summary.cost_usd).toBeLessThanOrEqual(limit);
    const spent = (await admin(urls[1] as string, 'GET', `/budgets/${budgetId}`)).body.spent_usd as number;
    expect(spent).toBeCloseTo(summary.cost_usd, 8);
  });
});
