/**
 * Two gateway processes (`node src/main.ts`) sharing one Redis and one PostgreSQL behave as one
 * gateway: a key created on one works on the other, and a key revoked on one is refused by the other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatOnReplica, createAdminCaller, type ReplicaSet, startReplicaSet } from './helpers/replica-set.ts';
import { createStateBackend, type StateBackend } from './helpers/state-backends.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'replicas-master-key';

describe('two replicas sharing Redis and PostgreSQL', () => {
  let storage: StorageBackend;
  let state: StateBackend;
  let simulator: Simulator;
  let replicas: ReplicaSet | undefined;
  let urls: string[] = [];

  const chat = (url: string, key: string) => chatOnReplica(url, key, 'gpt-4o-mini').then((answer) => answer.status);
  const admin = createAdminCaller(masterKey);

  beforeAll(async () => {
    storage = createBackend('postgresql');
    state = createStateBackend('redis');
    simulator = await startOpenAISimulator({ apiKey: 'sk-replicas-upstream' });
    replicas = await startReplicaSet({
      ...storage.env,
      ...state.env,
      OPENAI_API_KEY: 'sk-replicas-upstream',
      OPENAI_BASE_URL: simulator.baseUrl,
      MODELGATE_MASTER_KEY: masterKey,
    });
    urls = replicas.urls;
  }, 150_000);

  afterAll(async () => {
    await replicas?.stop();
    await simulator?.close();
    await state?.cleanup();
    await storage?.cleanup();
  });

  it('serves a key created on one replica from the other, and refuses it everywhere once revoked on one', async () => {
    const [first, second] = urls as [string, string];
    const created = await admin(first, 'POST', '/keys', { name: 'shared' });
    expect(created.status).toBe(201);
    const secret = created.body.key as string;
    await expect.poll(() => chat(second, secret), { timeout: 10_000, interval: 20 }).toBe(200);

    const revokedAt = performance.now();
    expect((await admin(first, 'DELETE', `/keys/${created.body.id}`)).status).toBe(200);
    expect(await chat(first, secret)).toBe(401);
    // The other replica learns of it from the invalidation message (its database poll runs only every 5 s).
    await expect.poll(() => chat(second, secret), { timeout: 10_000, interval: 20 }).toBe(401);
    console.info(`revocation seen by the other replica after ${Math.round(performance.now() - revokedAt)} ms`);
  });
});
