/**
 * Two gateway processes sharing one PostgreSQL database: a guardrail created through one replica's
 * admin API blocks on the other within seconds, a replacement (new version) and a deletion too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, startGatewayProcess } from './helpers/gateway-process.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

let openai: Simulator;
let backend: StorageBackend;
let replicas: GatewayProcess[] = [];
let urls: string[] = [];

beforeAll(async () => {
  openai = await startOpenAISimulator({ apiKey: 'sk-openai' });
  backend = createBackend('postgresql');
  const env = {
    ...backend.env,
    OPENAI_API_KEY: 'sk-openai',
    OPENAI_BASE_URL: openai.baseUrl,
    MODELGATE_MASTER_KEY: 'mg-guard-replicas',
    GUARDRAILS_ENABLED: 'true',
    GUARDRAILS_REFRESH_SECONDS: '1',
  };
  // The first replica runs the migrations; the second starts on the migrated schema.
  replicas = [startGatewayProcess(env)];
  urls = [await replicas[0]!.ready()];
  replicas.push(startGatewayProcess(env));
  urls.push(await replicas[1]!.ready());
}, 150_000);

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.stop()));
  await openai?.close();
  await backend?.cleanup();
});

const headers = { authorization: 'Bearer mg-guard-replicas', 'content-type': 'application/json' };

async function chat(url: string, content: string): Promise<{ status: number; code: string | null; flagged: string | null }> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content }] }),
  });
  const body = (await response.json()) as { error?: { code: string } };
  return { status: response.status, code: body.error?.code ?? null, flagged: response.headers.get('x-modelgate-guardrails') };
}

function admin(url: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${url}/admin/api/v1${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

describe('guardrails across two gateway processes', { timeout: 90_000 }, () => {
  it('a guardrail written on one replica is in force on the other, and so are its new version and its deletion', async () => {
    const [first = '', second = ''] = urls;
    expect((await chat(second, 'about zulu')).status).toBe(200);
    expect((await admin(first, 'POST', '/guardrails', { name: 'no-zulu', type: 'denylist', words: ['zulu'] })).status).toBe(200);
    expect((await chat(first, 'about zulu')).code).toBe('guardrail_blocked');
    await expect.poll(async () => (await chat(second, 'about zulu')).code, { timeout: 15_000, interval: 250 }).toBe('guardrail_blocked');

    const replaced = await admin(second, 'PUT', '/guardrails/no-zulu', { type: 'denylist', words: ['zulu'], action: 'flag' });
    expect(((await replaced.json()) as { version: number }).version).toBe(2);
    await expect.poll(async () => (await chat(first, 'about zulu')).flagged, { timeout: 15_000, interval: 250 }).toBe('no-zulu:flag');

    expect((await admin(first, 'DELETE', '/guardrails/no-zulu')).status).toBe(200);
    await expect.poll(async () => (await chat(second, 'about zulu')).flagged, { timeout: 15_000, interval: 250 }).toBeNull();
    const versions = (await (await admin(second, 'GET', '/guardrails/no-zulu/versions')).json()) as { data: { version: number }[] };
    expect(versions.data.map((entry) => entry.version)).toEqual([1, 2, 3]);
  });
});
