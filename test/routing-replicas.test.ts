/**
 * Two gateway processes sharing one PostgreSQL database: an alias, a virtual model and a model
 * override written through one replica's admin API are in force on the other within seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatOnReplica, createAdminCaller, type ReplicaSet, startReplicaSet } from './helpers/replica-set.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'mg-replicas';
let openai: Simulator;
let groq: Simulator;
let backend: StorageBackend;
let replicas: ReplicaSet | undefined;
let urls: string[] = [];

beforeAll(async () => {
  openai = await startOpenAISimulator({ apiKey: 'sk-openai' });
  groq = await startOpenAISimulator({ flavor: 'groq', apiKey: 'gsk-groq', models: ['llama-3.3-70b-versatile'] });
  backend = createBackend('postgresql');
  replicas = await startReplicaSet({
    ...backend.env,
    OPENAI_API_KEY: 'sk-openai',
    OPENAI_BASE_URL: openai.baseUrl,
    GROQ_API_KEY: 'gsk-groq',
    GROQ_BASE_URL: groq.baseUrl,
    MODELGATE_MASTER_KEY: masterKey,
    ROUTING_REFRESH_SECONDS: '1',
  });
  urls = replicas.urls;
}, 150_000);

afterAll(async () => {
  await replicas?.stop();
  await openai?.close();
  await groq?.close();
  await backend?.cleanup();
});

const admin = createAdminCaller(masterKey);

async function chat(url: string, model: string): Promise<{ status: number; text: string }> {
  const answer = await chatOnReplica(url, masterKey, model, 'who?');
  return { status: answer.status, text: answer.body.choices?.[0]?.message.content ?? '' };
}

describe('routing entries across two gateway processes', { timeout: 60_000 }, () => {
  it('an alias created on one replica routes on the other within a few seconds, and its deletion too', async () => {
    const [first = '', second = ''] = urls;
    expect((await chat(second, 'shared-alias')).status).toBe(404);
    expect((await admin(first, 'POST', '/aliases', { name: 'shared-alias', target: 'groq/llama-3.3-70b-versatile' })).status).toBe(200);
    expect(await chat(first, 'shared-alias')).toEqual({ status: 200, text: 'Hello from groq: who?' });
    await expect
      .poll(async () => (await chat(second, 'shared-alias')).text, { timeout: 5_000, interval: 200 })
      .toBe('Hello from groq: who?');
    expect((await admin(second, 'DELETE', '/aliases/shared-alias')).status).toBe(200);
    await expect.poll(async () => (await chat(first, 'shared-alias')).status, { timeout: 5_000, interval: 200 }).toBe(404);
  });

  it('a virtual model and a model override written on one replica hold on the other', async () => {
    const [first = '', second = ''] = urls;
    const created = await admin(second, 'POST', '/virtual-models', {
      name: 'shared-pool',
      strategy: 'priority',
      targets: [{ model: 'groq/llama-3.3-70b-versatile' }, { model: 'gpt-4o-mini' }],
    });
    expect(created.status).toBe(200);
    await expect.poll(async () => (await chat(first, 'shared-pool')).text, { timeout: 5_000, interval: 200 }).toBe('Hello from groq: who?');
    expect((await admin(first, 'PUT', '/model-overrides', { provider: 'groq', model: '*', enabled: false })).status).toBe(200);
    await expect.poll(async () => (await chat(second, 'groq/llama-3.3-70b-versatile')).status, { timeout: 5_000, interval: 200 }).toBe(403);
  });
});
