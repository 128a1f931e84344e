/**
 * Two gateway processes sharing one database: a guardrail created through one replica's admin API is in
 * force on the other, and so are its replacement (a new version) and its deletion.
 * - PostgreSQL only: the other replica learns of it by its periodic reload (GUARDRAILS_REFRESH_SECONDS=1).
 * - PostgreSQL and Redis, periodic reload off (GUARDRAILS_REFRESH_SECONDS=0): by the change message on Redis
 *   alone (`guardrails:changed`), promptly (the message, then one database read).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatOnReplica, createAdminCaller, type ReplicaSet, startReplicaSet } from './helpers/replica-set.ts';
import { createStateBackend, type StateBackend } from './helpers/state-backends.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'mg-guard-replicas';
let openai: Simulator;

beforeAll(async () => {
  openai = await startOpenAISimulator({ apiKey: 'sk-openai' });
});

afterAll(async () => {
  await openai?.close();
});

const admin = createAdminCaller(masterKey);

async function chat(url: string, content: string): Promise<{ status: number; code: string | null; flagged: string | null }> {
  const answer = await chatOnReplica(url, masterKey, 'openai/gpt-4o-mini', content);
  return { status: answer.status, code: answer.body.error?.code ?? null, flagged: answer.headers.get('x-modelgate-guardrails') };
}

/** Two replicas on PostgreSQL (and Redis when `state` is given) with the guardrails on. */
function replicaPair(refreshSeconds: string, withRedis: boolean) {
  let storage: StorageBackend;
  let state: StateBackend | undefined;
  let replicas: ReplicaSet | undefined;
  const urls: string[] = [];
  beforeAll(async () => {
    storage = createBackend('postgresql');
    state = withRedis ? createStateBackend('redis') : undefined;
    replicas = await startReplicaSet({
      ...storage.env,
      ...state?.env,
      OPENAI_API_KEY: 'sk-openai',
      OPENAI_BASE_URL: openai.baseUrl,
      MODELGATE_MASTER_KEY: masterKey,
      GUARDRAILS_ENABLED: 'true',
      GUARDRAILS_REFRESH_SECONDS: refreshSeconds,
    });
    urls.push(...replicas.urls);
  }, 150_000);
  afterAll(async () => {
    await replicas?.stop();
    await state?.cleanup();
    await storage?.cleanup();
  });
  return urls;
}

describe('guardrails across two gateway processes, by periodic reload', { timeout: 90_000 }, () => {
  const urls = replicaPair('1', false);

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

/** Polls `read` until it gives `expected`; returns how long that took (ms). */
async function seenAfter(read: () => Promise<string | null>, expected: string | null): Promise<number> {
  const startedAt = performance.now();
  // Generous for a loaded machine: with the periodic reload off, only the message can make this pass at all.
  await expect.poll(read, { timeout: 5_000, interval: 20 }).toBe(expected);
  return performance.now() - startedAt;
}

describe('guardrails across two gateway processes, by change message on Redis', { timeout: 90_000 }, () => {
  const urls = replicaPair('0', true);

  it('a guardrail written on one replica is in force on the other without any periodic reload, and so are its new version and its deletion', async () => {
    const [first = '', second = ''] = urls;
    expect((await chat(second, 'about yankee')).status).toBe(200);

    expect((await admin(first, 'POST', '/guardrails', { name: 'no-yankee', type: 'denylist', words: ['yankee'] })).status).toBe(200);
    const created = await seenAfter(async () => (await chat(second, 'about yankee')).code, 'guardrail_blocked');

    expect((await admin(second, 'PUT', '/guardrails/no-yankee', { type: 'denylist', words: ['yankee'], action: 'flag' })).status).toBe(200);
    const replaced = await seenAfter(async () => (await chat(first, 'about yankee')).flagged, 'no-yankee:flag');

    expect((await admin(first, 'DELETE', '/guardrails/no-yankee')).status).toBe(200);
    const deleted = await seenAfter(async () => (await chat(second, 'about yankee')).flagged, null);
    expect((await chat(second, 'about yankee')).status).toBe(200);
    console.info(
      `guardrail changes seen on the other replica after ${[created, replaced, deleted].map((ms) => ms.toFixed(0)).join(', ')} ms`,
    );
  });
});
