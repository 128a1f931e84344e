/**
 * Managed keys through the admin API, on SQLite and PostgreSQL: lifecycle (create, list, read, update,
 * rotate, deactivate, delete), every header form, scopes, model lists, expiry, and the secret never
 * appearing after creation (responses, usage and audit rows). Real gateway, official OpenAI client.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'managed-keys-master-key';
const keyPattern = /^mg-[A-Za-z0-9_-]{43}$/;

interface KeyBody {
  id: string;
  key?: string;
  key_hint: string;
  status: string;
  scopes: string[];
  allowed_models: string[];
  denied_models: string[];
  user: string | null;
  team: string | null;
  tags: string[];
  active: boolean;
  expires_at: string | null;
}

describe.each(['sqlite', 'postgresql'] as const)('managed keys on %s', (backendName) => {
  let backend: StorageBackend;
  let simulator: Simulator;
  let running: RunningGateway;
  const secrets: string[] = [];

  const admin = async (method: string, path: string, body?: unknown, key = masterKey) => {
    const response = await fetch(`${running.url}/admin/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, text, body: JSON.parse(text) as KeyBody & { data: KeyBody[]; error: { code: string; param: string | null } } };
  };
  const createKey = async (fields: Record<string, unknown> = {}) => {
    const created = await admin('POST', '/keys', fields);
    expect(created.status).toBe(201);
    if (created.body.key) secrets.push(created.body.key);
    return created.body;
  };
  const chat = (headers: Record<string, string>, model = 'gpt-4o-mini') =>
    fetch(`${running.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
    });

  beforeAll(async () => {
    backend = createBackend(backendName);
    simulator = await startOpenAISimulator({ apiKey: 'sk-managed-upstream' });
    running = await startGateway({
      ...backend.env,
      OPENAI_API_KEY: 'sk-managed-upstream',
      OPENAI_BASE_URL: simulator.baseUrl,
      MODELGATE_MASTER_KEY: masterKey,
      LOGGING_ENABLED: 'true',
      LOGGING_LOG_BODIES: 'true',
      LOGGING_LOG_HEADERS: 'true',
    });
  });

  afterAll(async () => {
    await running?.close();
    await simulator?.close();
    await backend?.cleanup();
  });

  it('creates a key whose secret is shown once, with owner fields, and lists it without the secret', async () => {
    const key = await createKey({ name: 'app one', user: 'alice', team: 'search', tags: ['prod', 'eu'] });
    expect(key.key).toMatch(keyPattern);
    expect(key.key_hint).toBe(`mg-...${key.key?.slice(-4)}`);
    expect(key).toMatchObject({ status: 'active', scopes: ['inference'], user: 'alice', team: 'search', tags: ['prod', 'eu'], active: true });
    expect(key.id).toMatch(/^key_[0-9a-f]{24}$/);

    const listed = await admin('GET', '/keys');
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((item) => item.id)).toContain(key.id);
    expect(listed.text).not.toContain(key.key);
    const read = await admin('GET', `/keys/${key.id}`);
    expect(read.body).toMatchObject({ id: key.id, name: 'app one', status: 'active' });
    expect(read.text).not.toContain(key.key);
    expect(read.body.key).toBeUndefined();
  });

  it('accepts a key in every header form, with the official OpenAI client too', async () => {
    const key = await createKey();
    const secret = key.key as string;
    for (const headers of [{ authorization: `Bearer ${secret}` }, { 'x-api-key': secret }, { 'x-goog-api-key': secret }]) {
      const response = await chat(headers);
      expect(response.status).toBe(200);
      await response.text();
    }
    const client = new OpenAI({ apiKey: secret, baseURL: `${running.url}/v1`, maxRetries: 0 });
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]?.message.content).toBeTruthy();
    const wrong = await chat({ authorization: `Bearer ${secret.slice(0, -2)}xx` });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
  });

  it('keeps the master key as the root next to managed keys', async () => {
    const response = await chat({ authorization: `Bearer ${masterKey}` });
    expect(response.status).toBe(200);
    await response.text();
    const wrong = await chat({ authorization: 'Bearer not-a-key' });
    expect(wrong.status).toBe(401);
    await wrong.text();
  });

  it('enforces scopes: an inference key cannot call the admin API; admin:read reads only; admin does both', async () => {
    const inference = await createKey();
    const reader = await createKey({ scopes: ['admin:read'] });
    const administrator = await createKey({ scopes: ['admin'] });
    const refused = await admin('GET', '/keys', undefined, inference.key);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('insufficient_scope');
    expect((await admin('GET', '/usage/summary', undefined, inference.key)).status).toBe(403);
    expect((await admin('GET', '/keys', undefined, reader.key)).status).toBe(200);
    expect((await admin('POST', '/keys', {}, reader.key)).status).toBe(403);
    const readerChat = await chat({ authorization: `Bearer ${reader.key}` });
    expect(readerChat.status).toBe(403);
    await readerChat.text();
    const made = await admin('POST', '/keys', { name: 'made by admin key' }, administrator.key);
    expect(made.status).toBe(201);
    expect((await admin('GET', '/keys', undefined, administrator.key)).status).toBe(200);
    const metrics = await fetch(`${running.url}/metrics`, { headers: { authorization: `Bearer ${inference.key}` } });
    expect(metrics.status).toBe(403);
    await metrics.text();
  });

  it('enforces model allow and deny lists, also through provider/model names', async () => {
    const limited = await createKey({ allowed_models: ['gpt-4o*'], denied_models: ['gpt-4o'] });
    const auth = { authorization: `Bearer ${limited.key}` };
    const allowed = await chat(auth, 'gpt-4o-mini');
    expect(allowed.status).toBe(200);
    await allowed.text();
    for (const model of ['gpt-4o', 'openai/gpt-4o', 'text-embedding-3-small']) {
      const refused = await chat(auth, model);
      expect(refused.status).toBe(403);
      const body = (await refused.json()) as { error: { code: string; param: string } };
      expect(body.error).toMatchObject({ code: 'model_not_allowed', param: 'model' });
    }
  });

  it('refuses an expired key and a deactivated one; update brings a key back', async () => {
    const expired = await createKey({ expires_at: new Date(Date.now() - 60_000).toISOString() });
    expect(expired.status).toBe('expired');
    const response = await chat({ authorization: `Bearer ${expired.key}` });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('expired_api_key');

    const key = await createKey();
    const deactivated = await admin('POST', `/keys/${key.id}/deactivate`);
    expect(deactivated.body).toMatchObject({ status: 'deactivated', active: false });
    const refused = await chat({ authorization: `Bearer ${key.key}` });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('inactive_api_key');
    const updated = await admin('POST', `/keys/${key.id}`, { active: true, tags: ['back'], expires_at: null });
    expect(updated.body).toMatchObject({ status: 'active', tags: ['back'], expires_at: null });
    const again = await chat({ authorization: `Bearer ${key.key}` });
    expect(again.status).toBe(200);
    await again.text();
  });

  it('rotates a key: the old secret stops working, the new one works', async () => {
    const key = await createKey();
    const rotated = await admin('POST', `/keys/${key.id}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.key).toMatch(keyPattern);
    expect(rotated.body.key).not.toBe(key.key);
    secrets.push(rotated.body.key as string);
    const old = await chat({ authorization: `Bearer ${key.key}` });
    expect(old.status).toBe(401);
    await old.text();
    const fresh = await chat({ authorization: `Bearer ${rotated.body.key}` });
    expect(fresh.status).toBe(200);
    await fresh.text();
  });

  it('deletes (revokes) a key: refused at once, gone from the list, kept with include_revoked', async () => {
    const key = await createKey();
    const deleted = await admin('DELETE', `/keys/${key.id}`);
    expect(deleted.body).toMatchObject({ object: 'api_key.deleted', id: key.id, deleted: true });
    const refused = await chat({ authorization: `Bearer ${key.key}` });
    expect(refused.status).toBe(401);
    await refused.text();
    expect((await admin('GET', '/keys')).body.data.map((item) => item.id)).not.toContain(key.id);
    const all = await admin('GET', '/keys?include_revoked=true');
    expect(all.body.data.find((item) => item.id === key.id)?.status).toBe('revoked');
    expect((await admin('DELETE', `/keys/${key.id}`)).status).toBe(404);
    expect((await admin('POST', `/keys/${key.id}/rotate`)).status).toBe(404);
  });

  it('answers bad admin input with a clear 400 naming the field', async () => {
    const unknownScope = await admin('POST', '/keys', { scopes: ['root'] });
    expect(unknownScope.status).toBe(400);
    expect(unknownScope.body.error.param).toBe('scopes.0');
    const unknownField = await admin('POST', '/keys', { owner: 'x' });
    expect(unknownField.status).toBe(400);
    const badDate = await admin('POST', '/keys', { expires_at: 'tomorrow' });
    expect(badDate.status).toBe(400);
    expect(badDate.body.error.param).toBe('expires_at');
    expect((await admin('GET', '/keys/key_missing')).status).toBe(404);
  });

  it('records the key id on usage rows and never stores a secret in usage or audit rows', async () => {
    const key = await createKey({ name: 'attributed' });
    const response = await chat({ authorization: `Bearer ${key.key}` });
    expect(response.status).toBe(200);
    await response.text();
    const usage = await admin('GET', `/usage/log?key_id=${key.id}`);
    expect(usage.body.data.length).toBeGreaterThan(0);
    const audit = await admin('GET', '/audit/log?limit=500');
    const allUsage = await admin('GET', '/usage/log?limit=500');
    const keyList = await admin('GET', '/keys?include_revoked=true');
    for (const secret of secrets) {
      expect(audit.text).not.toContain(secret);
      expect(allUsage.text).not.toContain(secret);
      expect(keyList.text).not.toContain(secret);
    }
  });

  it('lists the key routes in /openapi.json', async () => {
    const document = (await (await fetch(`${running.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(document.paths['/admin/api/v1/keys'] ?? {})).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(document.paths['/admin/api/v1/keys/{id}'] ?? {})).toEqual(expect.arrayContaining(['get', 'post', 'delete']));
    expect(document.paths['/admin/api/v1/keys/{id}/rotate']).toBeDefined();
    expect(document.paths['/admin/api/v1/keys/{id}/deactivate']).toBeDefined();
  });
});
