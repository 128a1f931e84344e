/**
 * GET /admin/api/v1/session on SQLite and PostgreSQL: the master key, managed keys with admin or admin:read
 * (read-only), an inference key (403), no key (401) and open access (no master key); never the secret.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';

const masterKey = 'session-master-key';

const get = async (url: string, key?: string) => {
  const response = await fetch(`${url}/admin/api/v1/session`, { headers: key === undefined ? {} : { authorization: `Bearer ${key}` } });
  const text = await response.text();
  return {
    status: response.status,
    text,
    body: JSON.parse(text) as Record<string, unknown>,
    cacheControl: response.headers.get('cache-control'),
  };
};

describe.each(['sqlite', 'postgresql'] as const)('admin session on %s', (backendName) => {
  let backend: StorageBackend;
  let running: RunningGateway;

  const createKey = async (fields: Record<string, unknown>) => {
    const response = await fetch(`${running.url}/admin/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(fields),
    });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { id: string; key: string };
    return { id: body.id, secret: body.key };
  };

  beforeAll(async () => {
    backend = createBackend(backendName);
    running = await startGateway({ ...backend.env, MODELGATE_MASTER_KEY: masterKey });
  });

  afterAll(async () => {
    await running?.close();
    await backend?.cleanup();
  });

  it('describes the master key', async () => {
    const session = await get(running.url, masterKey);
    expect(session.status).toBe(200);
    expect(session.body).toEqual({
      kind: 'master',
      key_id: null,
      name: null,
      scopes: ['inference', 'admin', 'admin:read'],
      read_only: false,
    });
    expect(session.text).not.toContain(masterKey);
    expect(session.cacheControl).toBe('no-store');
  });

  it('describes managed keys: admin is read-write, admin:read is read-only, and the secret is never in the answer', async () => {
    const writer = await createKey({ name: 'ops', scopes: ['admin'] });
    const reader = await createKey({ name: 'viewer', scopes: ['admin:read', 'inference'] });
    const written = await get(running.url, writer.secret);
    expect(written.status).toBe(200);
    expect(written.body).toEqual({ kind: 'managed_key', key_id: writer.id, name: 'ops', scopes: ['admin'], read_only: false });
    const read = await get(running.url, reader.secret);
    expect(read.body).toEqual({
      kind: 'managed_key',
      key_id: reader.id,
      name: 'viewer',
      scopes: ['admin:read', 'inference'],
      read_only: true,
    });
    for (const answer of [written, read]) {
      expect(answer.text).not.toContain(writer.secret);
      expect(answer.text).not.toContain(reader.secret);
    }
    // What read_only announces is what the scopes enforce.
    const refused = await fetch(`${running.url}/admin/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${reader.secret}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(refused.status).toBe(403);
  });

  it('refuses an inference-only key (403), no key (401) and a revoked key (401) in the OpenAI error shape', async () => {
    const inference = await createKey({ scopes: ['inference'] });
    const forbidden = await get(running.url, inference.secret);
    expect(forbidden.status).toBe(403);
    expect((forbidden.body.error as { code: string }).code).toBe('insufficient_scope');
    const missing = await get(running.url);
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatchObject({ code: 'missing_api_key' });

    const revoked = await createKey({ scopes: ['admin'] });
    expect((await get(running.url, revoked.secret)).status).toBe(200);
    await fetch(`${running.url}/admin/api/v1/keys/${revoked.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${masterKey}` } });
    const after = await get(running.url, revoked.secret);
    expect(after.status).toBe(401);
    expect(after.body.error).toMatchObject({ code: 'invalid_api_key' });
  });

  it('is documented in /openapi.json', async () => {
    const document = (await (await fetch(`${running.url}/openapi.json`)).json()) as {
      paths: Record<string, { get?: { responses: Record<string, unknown> } }>;
    };
    const operation = document.paths['/admin/api/v1/session']?.get;
    expect(JSON.stringify(operation?.responses['200'])).toContain('read_only');
  });
});

describe('admin session without a master key', () => {
  let backend: StorageBackend;
  let running: RunningGateway;

  beforeAll(async () => {
    backend = createBackend('sqlite');
    running = await startGateway({ ...backend.env });
  });

  afterAll(async () => {
    await running?.close();
    await backend?.cleanup();
  });

  it('is open access with every scope', async () => {
    const session = await get(running.url);
    expect(session.status).toBe(200);
    expect(session.body).toEqual({
      kind: 'open',
      key_id: null,
      name: null,
      scopes: ['inference', 'admin', 'admin:read'],
      read_only: false,
    });
  });
});
