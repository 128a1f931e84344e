/**
 * Workflows beyond the chat-shaped APIs, on SQLite and PostgreSQL, with a real gateway over the OpenAI simulator:
 * - passthrough (`/p/openai/...`): a workflow's audit and usage switches decide the call's records, its budget
 *   switch whether the key's budget applies; a workflow scoped by model matches the provider's own model name as
 *   `openai/<model>`; the version applied is in the audit record.
 * - batches: the workflow of a batch (resolved at creation, for its key, provider and first line's model) chooses
 *   which input guardrails run on its lines (ENABLE_GUARDRAILS_FOR_BATCH_PROCESSING), and its usage switch whether
 *   the finished batch's items become usage rows.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminCaller } from './helpers/replica-set.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'mg-workflows-elsewhere';

const config = `
guardrails:
  enabled: true
  batch_processing: true
  rules:
    - name: no-zulu
      type: denylist
      words: [zulu]
    - name: personal-data
      type: pii
      entities: [email]
workflows:
  - name: quiet
    scope: { tag: quiet }
    audit: false
    usage: false
  - name: mini-untracked
    scope: { tag: modeled, model: openai/gpt-4o-mini }
    usage: false
  - name: no-budget
    scope: { tag: nobudget }
    budget: false
  - name: unguarded
    scope: { tag: unguarded }
    guardrails: []
  - name: pii-only
    scope: { tag: piionly }
    guardrails: [personal-data]
`;

type Line = { custom_id: string; body: { model: string; messages: { role: string; content: string }[] } };

describe.each(['sqlite', 'postgresql'] as const)('workflows for passthrough and batches on %s', (backendName) => {
  let backend: StorageBackend;
  let simulator: Simulator;
  let running: RunningGateway;
  let directory: string;

  const call = createAdminCaller(masterKey);
  const admin = (method: string, path: string, body?: unknown) => call(running.url, method, path, body);
  const createKey = async (name: string, tags: string[] = []) => {
    const created = await admin('POST', '/keys', { name, tags });
    expect(created.status).toBe(201);
    return { id: created.body.id as string, secret: created.body.key as string };
  };
  const passthrough = async (secret: string, model = 'gpt-4o-mini') => {
    const response = await fetch(`${running.url}/p/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, max_tokens: 20, messages: [{ role: 'user', content: `hello ${backendName}` }] }),
    });
    const body = (await response.json()) as { error?: { code?: string } };
    return { status: response.status, code: body.error?.code ?? null };
  };
  const auditOf = async (keyId: string) => (await admin('GET', `/audit/log?key_id=${keyId}`)).body.data as Record<string, unknown>[];
  const usageOf = async (keyId: string) => (await admin('GET', `/usage/log?key_id=${keyId}`)).body.data as Record<string, unknown>[];
  const createBatch = async (secret: string, requests: Line[]) => {
    const response = await fetch(`${running.url}/v1/batches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint: '/v1/chat/completions', completion_window: '24h', requests }),
    });
    return { status: response.status, body: (await response.json()) as { id?: string; error?: { code: string } } };
  };
  const sentLines = (): Line[] => {
    const batch = [...simulator.filesApi.batches.values()].at(-1);
    const file = simulator.filesApi.files.get(String(batch?.input_file_id));
    return readFileSync(String(file?.path), 'utf8')
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text) as Line);
  };
  /** Waits for the batch to finish, then fetches its results (which records its usage first). */
  const finish = async (secret: string, id: string) => {
    const headers = { authorization: `Bearer ${secret}` };
    await expect
      .poll(async () => ((await (await fetch(`${running.url}/v1/batches/${id}`, { headers })).json()) as { status: string }).status, {
        timeout: 15_000,
        interval: 50,
      })
      .toBe('completed');
    const results = await fetch(`${running.url}/v1/batches/${id}/results`, { headers });
    expect(results.status).toBe(200);
    return (await results.text()).trim().split('\n');
  };
  const line = (id: string, content: string): Line => ({
    custom_id: id,
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content }] },
  });

  beforeAll(async () => {
    backend = createBackend(backendName);
    directory = mkdtempSync(join(tmpdir(), 'modelgate-workflows-elsewhere-'));
    writeFileSync(join(directory, 'config.yaml'), config);
    simulator = await startOpenAISimulator({ apiKey: 'sk-workflows-elsewhere' });
    running = await startGateway(
      {
        ...backend.env,
        OPENAI_API_KEY: 'sk-workflows-elsewhere',
        OPENAI_BASE_URL: simulator.baseUrl,
        MODELGATE_MASTER_KEY: masterKey,
        LOGGING_ENABLED: 'true',
        BATCH_POLL_INTERVAL: '0',
        STORAGE_SPILL_DIR: join(directory, 'spill'),
      },
      { cwd: directory },
    );
  });

  afterAll(async () => {
    await running?.close();
    await simulator?.close();
    await backend?.cleanup();
    rmSync(directory, { recursive: true, force: true });
  });

  it('passthrough: audit and usage off write neither record; without a matching workflow both are written', async () => {
    const quiet = await createKey('quiet', ['quiet']);
    const plain = await createKey('plain');
    expect((await passthrough(quiet.secret)).status).toBe(200);
    expect((await passthrough(plain.secret)).status).toBe(200);
    expect(await auditOf(quiet.id)).toHaveLength(0);
    expect(await usageOf(quiet.id)).toHaveLength(0);
    expect(await auditOf(plain.id)).toHaveLength(1);
    expect(await usageOf(plain.id)).toHaveLength(1);
    expect((await auditOf(plain.id))[0]?.policy_version ?? null).toBeNull();
  });

  it('passthrough: a workflow scoped by openai/<model> matches the native model name, only that model; its version is audited', async () => {
    const key = await createKey('modeled', ['modeled']);
    expect((await passthrough(key.secret, 'gpt-4o-mini')).status).toBe(200);
    expect(await usageOf(key.id)).toHaveLength(0);
    const audited = await auditOf(key.id);
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({ endpoint: 'passthrough' });
    expect(audited[0]?.policy_version).toMatch(/^mini-untracked@config-[0-9a-f]{8}$/);
    expect((await passthrough(key.secret, 'gpt-4o')).status).toBe(200);
    expect((await usageOf(key.id)).map((row) => row.model)).toEqual(['gpt-4o']);
  });

  it("passthrough: budget off lets a call through that the key's budget refuses", async () => {
    expect((await admin('POST', '/budgets', { scope: 'tag', subject: 'capped', limit_usd: 0.0000001, period: 'daily' })).status).toBe(201);
    const capped = await createKey('capped', ['capped']);
    const free = await createKey('capped but free', ['capped', 'nobudget']);
    expect(await passthrough(capped.secret)).toMatchObject({ status: 429, code: 'budget_exceeded' });
    expect((await passthrough(free.secret)).status).toBe(200);
  });

  it("batches: the batch's workflow chooses the input guardrails of its lines", async () => {
    const plain = await createKey('batch plain');
    const unguarded = await createKey('batch unguarded', ['unguarded']);
    const piiOnly = await createKey('batch pii only', ['piionly']);
    const lines = [line('a', 'about zulu'), line('b', 'mail ann@example.com')];
    const refused = await createBatch(plain.secret, lines);
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'guardrail_blocked' } } });

    expect((await createBatch(unguarded.secret, lines)).status).toBe(200);
    expect(sentLines().map((sent) => sent.body.messages[0]?.content)).toEqual(['about zulu', 'mail ann@example.com']);

    expect((await createBatch(piiOnly.secret, lines)).status).toBe(200);
    expect(sentLines().map((sent) => sent.body.messages[0]?.content)).toEqual(['about zulu', 'mail [EMAIL]']);
  });

  it("batches: usage off for the batch's workflow records no usage rows once it finishes; otherwise one per item", async () => {
    const quiet = await createKey('batch quiet', ['quiet']);
    const plain = await createKey('batch recorded');
    const lines = [line('a', 'one'), line('b', 'two')];
    const quietBatch = await createBatch(quiet.secret, lines);
    const plainBatch = await createBatch(plain.secret, lines);
    expect(await finish(quiet.secret, String(quietBatch.body.id))).toHaveLength(2);
    expect(await finish(plain.secret, String(plainBatch.body.id))).toHaveLength(2);
    expect(await usageOf(quiet.id)).toHaveLength(0);
    expect((await usageOf(plain.id)).map((row) => row.endpoint)).toEqual(['batch', 'batch']);
    // The workflow's decision stays inside: the batch object the client sees has no gateway fields.
    const seen = (await (
      await fetch(`${running.url}/v1/batches/${quietBatch.body.id}`, { headers: { authorization: `Bearer ${quiet.secret}` } })
    ).json()) as Record<string, unknown>;
    expect(Object.keys(seen).filter((name) => name.startsWith('gateway_'))).toEqual([]);
  });
});
