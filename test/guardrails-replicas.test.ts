/**
 * Two gateway processes sharing one PostgreSQL database: a guardrail created through one replica's
 * admin API blocks on the other within seconds, a replacement (new version) and a deletion too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatOnReplica, createAdminCaller, type ReplicaSet, startReplicaSet } from './helpers/replica-set.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'mg-guard-replicas';
let openai: Simulator;
let backend: StorageBackend;
let replicas: ReplicaSet | undefined;
let urls: string[] = [];

beforeAll(async () => {
  openai = await startOpenAISimulator({ apiKey: 'sk-openai' });
  backend = createBackend('postgresql');
  replicas = await startReplicaSet({
    ...backend.env,
    OPENAI_API_KEY: 'sk-openai',
    OPENAI_BASE_URL: openai.baseUrl,
    MODELGATE_MASTER_KEY: masterKey,
    GUARDRAILS_ENABLED: 'true',
    GUARDRAILS_REFRESH_SECONDS: '1',
  });
  urls = replicas.urls;
}, 150_000);

afterAll(async () => {
  await replicas?.stop();
  await openai?.close();
  await backend?.cleanup();
});

const admin = createAdminCaller(masterKey);

async function chat(url: string, content: string): Promise<{ status: number; code: string | null; flagged: string | null }> {
  const answer = await chatOnReplica(url, masterKey, 'openai/gpt-4o-mini', content);
  return { status: answer.status, code: answer.body.error?.code ?? null, flagged: answer.headers.get('x-modelgate-guardrails') };
}

describe('guardrails across two gateway processes', { timeout: 90_000 }, () => {
  it('a guardrail written on one replica is in force on the other, and so are its new version and its deletion', async () => {
    const [first = '', second = ''] = urls;
    expect((await chat(second, 'about zulu')).status).toBe(200);
    expect((await admin(first, 'POST', '/guardrails', { name: 'no-zulu', type: 'denylist', words: ['zulu'] })).status).toBe(200);
    expect((await chat(first, 'about zulu')).code).toBe('guardrail_blocked');
    await expect.poll(async () => (await chat(second, 'about zulu')).code, { timeout: 15_000, interval: 250 }).toBe('guardrail_blocked');

    const replaced = await admin(second, 'PUT', '/guardrails/no-zulu', { type: 'denylist', words: ['zulu'], action: 'flag' });
    expect(replaced.body.version).toBe(2);
    await expect.poll(async () => (await chat(first, 'about zulu')).flagged, { timeout: 15_000, interval: 250 }).toBe('no-zulu:flag');

    expect((await admin(first, 'DELETE', '/guardrails/no-zulu')).status).toBe(200);
    await expect.poll(async () => (await chat(second, 'about zulu')).flagged, { timeout: 15_000, interval: 250 }).toBeNull();
    const versions = (await admin<{ data: { version: number }[] }>(second, 'GET', '/guardrails/no-zulu/versions')).body;
    expect(versions.data.map((entry) => entry.version)).toEqual([1, 2, 3]);
  });
});
