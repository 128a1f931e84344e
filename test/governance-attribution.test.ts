/**
 * Attribution and target access of managed keys, on SQLite and PostgreSQL: usage and audit rows carry the
 * key's user, team and tags; the admin usage API filters by them and groups by key, user, team and tag;
 * a key's model lists also apply to what an alias, a virtual model or a fallback resolves to.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'attribution-master-key';

describe.each(['sqlite', 'postgresql'] as const)('attribution and target access on %s', (backendName) => {
  let backend: StorageBackend;
  let simulator: Simulator;
  let running: RunningGateway;

  const admin = async (path: string, init: { method?: string; body?: unknown } = {}) => {
    const response = await fetch(`${running.url}/admin/api/v1${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const createKey = async (fields: Record<string, unknown>) => {
    const created = await admin('/keys', { method: 'POST', body: fields });
    expect(created.status).toBe(201);
    return { id: created.body.id as string, secret: created.body.key as string };
  };
  const chat = async (secret: string, model: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${running.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
    });
    const body = (await response.json()) as { error?: { code: string } };
    return { status: response.status, code: body.error?.code, provider: response.headers.get('x-modelgate-provider') };
  };

  beforeAll(async () => {
    backend = createBackend(backendName);
    simulator = await startOpenAISimulator({ apiKey: 'sk-attribution' });
    running = await startGateway({
      ...backend.env,
      OPENAI_API_KEY: 'sk-attribution',
      OPENAI_BASE_URL: simulator.baseUrl,
      MODELGATE_MASTER_KEY: masterKey,
      LOGGING_ENABLED: 'true',
      MODEL_ALIASES: 'smart=openai/gpt-4o,cheap=openai/gpt-4o-mini',
      VIRTUAL_MODELS: JSON.stringify({ pool: { strategy: 'priority', targets: [{ model: 'openai/gpt-4o' }] } }),
    });
  });

  afterAll(async () => {
    await running?.close();
    await simulator?.close();
    await backend?.cleanup();
  });

  it('records user, team and tags on usage and audit rows; the admin API filters and groups by them', async () => {
    const search = await createKey({ user: 'alice', team: 'search', tags: ['prod', 'eu'] });
    const ads = await createKey({ user: 'bob', team: 'ads', tags: ['prod'] });
    for (const key of [search, search, ads]) expect((await chat(key.secret, 'gpt-4o-mini')).status).toBe(200);
    expect((await chat(masterKey, 'gpt-4o-mini')).status).toBe(200);

    const log = await admin(`/usage/log?key_id=${search.id}`);
    const entries = log.body.data as { user: string; team: string; tags: string[] }[];
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ user: 'alice', team: 'search', tags: ['prod', 'eu'] });
    const audit = await admin(`/audit/log?key_id=${ads.id}`);
    expect((audit.body.data as Record<string, unknown>[])[0]).toMatchObject({ user: 'bob', team: 'ads', tags: ['prod'] });

    expect((await admin('/usage/summary?team=search')).body.requests).toBe(2);
    expect((await admin('/usage/summary?user=bob')).body.requests).toBe(1);
    expect((await admin('/usage/summary?tag=prod')).body.requests).toBe(3);
    expect((await admin('/usage/summary?tag=eu')).body.requests).toBe(2);
    expect((await admin('/usage/summary?tag=pro')).body.requests).toBe(0);
    expect((await admin('/audit/log?team=ads')).body.total).toBe(1);

    const groups = async (by: string) => {
      const data = (await admin(`/usage/groups?by=${by}&status=200`)).body.data as { group: string | null; requests: number }[];
      return Object.fromEntries(data.map((entry) => [String(entry.group), entry.requests]));
    };
    expect(await groups('team')).toMatchObject({ search: 2, ads: 1, null: 1 });
    expect(await groups('user')).toMatchObject({ alice: 2, bob: 1 });
    expect(await groups('tag')).toMatchObject({ prod: 3, eu: 2, null: 1 });
    expect(await groups('key')).toMatchObject({ [search.id]: 2, [ads.id]: 1 });
    const bad = await admin('/usage/groups?by=planet');
    expect(bad.status).toBe(400);
    expect((bad.body.error as { param: string }).param).toBe('by');
  });

  it('applies model lists to what an alias, a virtual model or a fallback resolves to', async () => {
    const denied = await createKey({ denied_models: ['gpt-4o'] });
    expect((await chat(denied.secret, 'cheap')).status).toBe(200);
    for (const model of ['smart', 'pool', 'gpt-4o']) expect(await chat(denied.secret, model)).toMatchObject({ status: 403, code: 'model_not_allowed' });

    const allowed = await createKey({ allowed_models: ['cheap', 'sim-server-error'] });
    // Allowing an alias allows its target.
    expect((await chat(allowed.secret, 'cheap')).status).toBe(200);
    expect((await chat(allowed.secret, 'smart')).status).toBe(403);
    // A fallback the client names in a header must be allowed itself: it is refused, never served.
    const before = simulator.requests.filter((request) => request.body?.model === 'gpt-4o').length;
    const fallback = await chat(allowed.secret, 'openai/sim-server-error', { 'x-modelgate-fallbacks': 'openai/gpt-4o' });
    expect(fallback).toMatchObject({ status: 403, code: 'model_not_allowed' });
    expect(simulator.requests.filter((request) => request.body?.model === 'gpt-4o').length).toBe(before);
  });
});
