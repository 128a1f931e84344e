/**
 * Audit log text search (`q`) and the audit filters together, on SQLite and PostgreSQL, through the real
 * gateway and the OpenAI simulator: `q` finds a substring of the model, path, request id, error message and
 * (when bodies are stored) the bodies, case-insensitively; LIKE wildcards and quotes in `q` are plain text;
 * key_id, status, errors_only, provider, model, dates, start/end instants and q combine.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'audit-search-master-key';

type Entry = {
  id: string;
  request_id: string;
  model: string | null;
  path: string;
  status: number;
  key_id: string | null;
  created_at: string;
};

describe.each(['sqlite', 'postgresql'] as const)('audit log search on %s', (backendName) => {
  let backend: StorageBackend;
  let bodiless: StorageBackend;
  let simulator: Simulator;
  let running: RunningGateway;
  let withoutBodies: RunningGateway;
  const keys: Record<string, { id: string; secret: string }> = {};
  let before = 0;
  let after = 0;

  const audit = async (query: string, gateway = running) => {
    const response = await fetch(`${gateway.url}/admin/api/v1/audit/log?${query}`, { headers: { authorization: `Bearer ${masterKey}` } });
    const body = (await response.json()) as { data: Entry[]; total: number; error?: { param: string; type: string } };
    return { status: response.status, body };
  };
  const search = async (query: string, gateway = running) => {
    const answer = await audit(query, gateway);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.data).toHaveLength(Math.min(answer.body.total, 50));
    return answer.body;
  };
  const client = (secret: string, gateway: RunningGateway) => new OpenAI({ apiKey: secret, baseURL: `${gateway.url}/v1`, maxRetries: 0 });

  beforeAll(async () => {
    backend = createBackend(backendName);
    bodiless = createBackend(backendName);
    simulator = await startOpenAISimulator({
      apiKey: 'sk-audit-search',
      models: ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small', 'sim-server-error'],
    });
    const env = {
      OPENAI_API_KEY: 'sk-audit-search',
      OPENAI_BASE_URL: simulator.baseUrl,
      MODELGATE_MASTER_KEY: masterKey,
      LOGGING_ENABLED: 'true',
    };
    running = await startGateway({ ...backend.env, ...env, LOGGING_LOG_BODIES: 'true' });
    withoutBodies = await startGateway({ ...bodiless.env, ...env, LOGGING_LOG_BODIES: 'false' });
    for (const name of ['alpha', 'beta']) {
      const response = await fetch(`${running.url}/admin/api/v1/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      const body = (await response.json()) as { id: string; key: string };
      keys[name] = { id: body.id, secret: body.key };
    }
    before = Date.now();
    const alpha = client(keys.alpha?.secret ?? '', running);
    const beta = client(keys.beta?.secret ?? '', running);
    await alpha.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'The quick brown Zebra jumps' }] });
    await alpha.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'a zebra again, 100% striped' }] });
    await beta.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] });
    await beta.embeddings.create({ model: 'text-embedding-3-small', input: 'vectors please' });
    await expect(
      alpha.chat.completions.create({ model: 'sim-server-error', messages: [{ role: 'user', content: 'break it' }] }),
    ).rejects.toThrow();
    await client(masterKey, withoutBodies).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Zebra without bodies' }],
    });
    after = Date.now() + 1;
  });

  afterAll(async () => {
    await running?.close();
    await withoutBodies?.close();
    await simulator?.close();
    await backend?.cleanup();
    await bodiless?.cleanup();
  });

  it('finds a substring of the bodies, model, path, request id and error message, whatever the case', async () => {
    expect((await search('')).total).toBe(5);
    for (const q of ['zebra', 'ZEBRA', 'zEbRa']) {
      const found = await search(`q=${q}`);
      expect(found.total, q).toBe(2);
      expect(new Set(found.data.map((entry) => entry.key_id))).toEqual(new Set([keys.alpha?.id]));
    }
    expect((await search('q=Quick%20Brown')).total).toBe(1);
    // Model and path.
    expect((await search('q=GPT-4O-MINI')).data.map((entry) => entry.model)).toEqual(['gpt-4o-mini', 'gpt-4o-mini']);
    const embeddings = await search('q=%2Fv1%2Fembed');
    expect(embeddings.data.map((entry) => entry.path)).toEqual(['/v1/embeddings']);
    // Request id (the whole id and a part of it).
    const target = embeddings.data[0] as Entry;
    expect((await search(`q=${encodeURIComponent(target.request_id)}`)).data.map((entry) => entry.id)).toEqual([target.id]);
    expect((await search(`q=${encodeURIComponent(target.request_id.slice(2, -2).toUpperCase())}`)).data.map((entry) => entry.id)).toContain(
      target.id,
    );
    // The upstream's error message.
    const failed = await search('q=had%20an%20error%20while');
    expect(failed.total).toBe(1);
    expect(failed.data[0]?.status).toBeGreaterThanOrEqual(500);
  });

  it('takes LIKE wildcards, quotes and backslashes in q as plain text', async () => {
    expect((await search('q=100%25')).total).toBe(1);
    expect((await search('q=%25')).total).toBe(1);
    expect((await search('q=zeb_a')).total).toBe(0);
    expect((await search('q=z%25a')).total).toBe(0);
    expect((await search(`q=${encodeURIComponent("' or 1=1 --")}`)).total).toBe(0);
    expect((await search(`q=${encodeURIComponent('\\')}`)).total).toBe(0);
    // `!` is the LIKE escape character the query uses: still plain text (the simulator's error message ends with one).
    expect((await search(`q=${encodeURIComponent('that!')}`)).total).toBe(1);
    expect((await search(`q=${encodeURIComponent('!!')}`)).total).toBe(0);
  });

  it('searches no bodies when they are not stored', async () => {
    expect((await search('', withoutBodies)).total).toBe(1);
    expect((await search('q=zebra', withoutBodies)).total).toBe(0);
    expect((await search('q=gpt-4o-mini', withoutBodies)).total).toBe(1);
  });

  it('combines q with key_id, status, errors_only, provider, model, dates and start/end', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const alpha = keys.alpha?.id ?? '';
    const all = `key_id=${alpha}&status=200&errors_only=false&provider=openai&model=gpt-4o-mini&start_date=${today}&end_date=${today}&q=zebra`;
    expect((await search(all)).total).toBe(1);
    expect((await search(all.replace('model=gpt-4o-mini', 'model=gpt-4o'))).total).toBe(1);
    expect((await search(all.replace(`key_id=${alpha}`, `key_id=${keys.beta?.id}`))).total).toBe(0);
    expect((await search(all.replace('status=200', 'status=500'))).total).toBe(0);
    expect((await search(all.replace('errors_only=false', 'errors_only=true'))).total).toBe(0);
    expect((await search(all.replace('provider=openai', 'provider=elsewhere'))).total).toBe(0);
    expect(
      (await search(all.replace(`start_date=${today}`, 'start_date=2020-01-01').replace(`end_date=${today}`, 'end_date=2020-01-02'))).total,
    ).toBe(0);
    expect((await search(`key_id=${alpha}&errors_only=true`)).data.map((entry) => entry.model)).toEqual(['sim-server-error']);
    expect((await search(`key_id=${alpha}&errors_only=true&q=break`)).total).toBe(1);
    // start/end instants (ISO 8601 or epoch ms) narrow within the days.
    expect((await search(`start=${before - 1}&end=${after}`)).total).toBe(5);
    expect((await search(`start=${new Date(after).toISOString()}`)).total).toBe(0);
    expect((await search(`end=${before - 1}`)).total).toBe(0);
    expect((await search(`start=${before - 1}&q=zebra&key_id=${alpha}&model=gpt-4o`)).total).toBe(1);
  });

  it('refuses a q that is too long and bad instants with 400 in the OpenAI shape', async () => {
    const long = await audit(`q=${'x'.repeat(201)}`);
    expect(long.status).toBe(400);
    expect(long.body.error).toMatchObject({ param: 'q', type: 'invalid_request_error' });
    const bad = await audit('start=tomorrow');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ param: 'start' });
    const reversed = await audit(`start=${after}&end=${before}`);
    expect(reversed.status).toBe(400);
  });
});
