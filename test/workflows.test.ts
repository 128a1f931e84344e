/**
 * Workflows end to end, on SQLite and PostgreSQL: a real gateway with guardrails, the exact cache, budgets,
 * fallback, usage and audit records, and workflows from config.yaml and the admin API, scoped by the managed
 * key's tags, user and team. Each switch is shown to switch: cache off answers X-Cache BYPASS twice, audit off
 * writes no audit row, usage off no usage row, fallback off fails where the same call otherwise falls back,
 * budget off passes where the same key's budget refuses, and a workflow's guardrail list decides which
 * guardrails run. Admin writes add versions that are never changed; the version applied is in the audit
 * record (policy_version) and the cache key.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'mg-workflows-master';

const config = `
guardrails:
  enabled: true
  rules:
    - name: no-zulu
      type: denylist
      words: [zulu]
    - name: watch-xray
      type: regex
      patterns: ['\\bxray\\b']
      action: flag
workflows:
  - name: no-cache
    scope: { tag: nocache }
    cache: false
  - name: no-audit
    scope: { user: quiet }
    audit: false
  - name: no-usage
    scope: { team: untracked }
    usage: false
  - name: no-fallback
    scope: { tag: nofallback }
    fallback: false
  - name: no-budget
    scope: { tag: nobudget }
    budget: false
  - name: relaxed
    scope: { team: relaxed }
    guardrails: [watch-xray]
  - name: unguarded
    scope: { team: unguarded, model: gpt-4o-mini }
    guardrails: []
`;

describe.each(['sqlite', 'postgresql'] as const)('workflows on %s', (backendName) => {
  let backend: StorageBackend;
  let simulator: Simulator;
  let running: RunningGateway;
  let directory: string;

  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${running.url}/admin/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> & { error?: { code: string } } };
  };
  const createKey = async (fields: Record<string, unknown>) => {
    const created = await admin('POST', '/keys', fields);
    expect(created.status).toBe(201);
    return { id: created.body.id as string, secret: created.body.key as string };
  };
  const chat = async (secret: string, content: string, options: { model?: string; headers?: Record<string, string> } = {}) => {
    const response = await fetch(`${running.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify({ model: options.model ?? 'gpt-4o-mini', max_tokens: 50, messages: [{ role: 'user', content }] }),
    });
    const body = (await response.json()) as { error?: { code: string } };
    return {
      status: response.status,
      code: body.error?.code ?? null,
      cache: response.headers.get('x-cache'),
      guardrails: response.headers.get('x-modelgate-guardrails'),
      fallback: response.headers.get('x-modelgate-fallback'),
    };
  };
  const auditOf = async (keyId: string) => (await admin('GET', `/audit/log?key_id=${keyId}`)).body.data as Record<string, unknown>[];
  const usageOf = async (keyId: string) => (await admin('GET', `/usage/log?key_id=${keyId}`)).body.data as Record<string, unknown>[];
  let unique = 0;
  const text = (base: string) => `${base} ${backendName} ${++unique}`;

  beforeAll(async () => {
    backend = createBackend(backendName);
    directory = mkdtempSync(join(tmpdir(), 'modelgate-workflows-'));
    writeFileSync(join(directory, 'config.yaml'), config);
    simulator = await startOpenAISimulator({ apiKey: 'sk-workflows' });
    running = await startGateway(
      {
        ...backend.env,
        OPENAI_API_KEY: 'sk-workflows',
        OPENAI_BASE_URL: simulator.baseUrl,
        MODELGATE_MASTER_KEY: masterKey,
        LOGGING_ENABLED: 'true',
        RESPONSE_CACHE_SIMPLE_ENABLED: 'true',
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

  it('puts the workflow stage first; with no workflow matching, everything applies as configured', async () => {
    expect(running.gateway.pipeline.stageNames()[0]).toBe('workflow');
    const plain = await createKey({ name: 'plain' });
    const content = text('hello');
    expect((await chat(plain.secret, content)).cache).toBe('MISS');
    expect((await chat(plain.secret, content)).cache).toBe('HIT (exact)');
    expect((await chat(plain.secret, 'about zulu')).code).toBe('guardrail_blocked');
    expect((await auditOf(plain.id))[0]?.policy_version).toMatch(/^[0-9a-f]{12}$/);
  });

  it('cache off for a scope: X-Cache BYPASS on a repeated call; the workflow is in the audit record', async () => {
    const key = await createKey({ name: 'nocache', tags: ['nocache'] });
    const content = text('cache me');
    expect((await chat(key.secret, content)).cache).toBe('BYPASS');
    expect((await chat(key.secret, content)).cache).toBe('BYPASS');
    expect((await auditOf(key.id))[0]?.policy_version).toMatch(/^[0-9a-f]{12}\/no-cache@config-[0-9a-f]{8}$/);
  });

  it('audit off writes no audit row (usage still recorded); usage off writes no usage row (audit still recorded)', async () => {
    const quiet = await createKey({ name: 'quiet', user: 'quiet' });
    const untracked = await createKey({ name: 'untracked', team: 'untracked' });
    const loud = await createKey({ name: 'loud', user: 'loud' });
    for (const key of [quiet, untracked, loud]) expect((await chat(key.secret, text('record me'))).status).toBe(200);
    expect(await auditOf(quiet.id)).toHaveLength(0);
    expect(await usageOf(quiet.id)).toHaveLength(1);
    expect(await usageOf(untracked.id)).toHaveLength(0);
    const audited = await auditOf(untracked.id);
    expect(audited).toHaveLength(1);
    expect(audited[0]?.policy_version).toMatch(/\/no-usage@config-/);
    expect(await auditOf(loud.id)).toHaveLength(1);
    expect(await usageOf(loud.id)).toHaveLength(1);
  });

  it('fallback off: the failure reaches the client where the same call otherwise falls back', async () => {
    const normal = await createKey({ name: 'falls back' });
    const strict = await createKey({ name: 'no fallback', tags: ['nofallback'] });
    const headers = { 'x-modelgate-fallbacks': 'openai/gpt-4o-mini' };
    const fellBack = await chat(normal.secret, text('x'), { model: 'openai/sim-server-error', headers });
    expect(fellBack).toMatchObject({ status: 200, fallback: 'openai/sim-server-error -> openai/gpt-4o-mini' });
    const failed = await chat(strict.secret, text('x'), { model: 'openai/sim-server-error', headers });
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(failed.fallback).toBeNull();
  });

  it('budget off: a key whose tag budget refuses passes once a workflow switches budgets off', async () => {
    expect((await admin('POST', '/budgets', { scope: 'tag', subject: 'capped', limit_usd: 0.0000001, period: 'daily' })).status).toBe(201);
    const capped = await createKey({ name: 'capped', tags: ['capped'] });
    const free = await createKey({ name: 'capped but free', tags: ['capped', 'nobudget'] });
    expect((await chat(capped.secret, text('spend'))).code).toBe('budget_exceeded');
    expect((await chat(free.secret, text('spend'))).status).toBe(200);
  });

  it("a workflow's guardrail list decides which guardrails run ([] runs none, only for its model)", async () => {
    const relaxed = await createKey({ name: 'relaxed', team: 'relaxed' });
    const unguarded = await createKey({ name: 'unguarded', team: 'unguarded' });
    expect((await chat(relaxed.secret, text('about zulu'))).status).toBe(200);
    expect((await chat(relaxed.secret, text('an xray'))).guardrails).toBe('watch-xray:flag');
    expect((await chat(unguarded.secret, text('zulu and xray'))).guardrails).toBeNull();
    expect((await chat(unguarded.secret, text('zulu and xray'))).status).toBe(200);
    // The unguarded workflow is scoped to gpt-4o-mini: on gpt-4o every guardrail runs again.
    expect((await chat(unguarded.secret, text('zulu'), { model: 'gpt-4o' })).code).toBe('guardrail_blocked');
  });

  it('admin writes add versions, never change one; the version applied is in the audit record and the cache key', async () => {
    const key = await createKey({ name: 'versioned' });
    const content = text('versioned call');
    const created = await admin('POST', '/workflows', { name: 'for-key', scope: { key: key.id }, guardrails: ['watch-xray'] });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ name: 'for-key', source: 'admin', version: 1, cache: true });
    expect((await chat(key.secret, content)).cache).toBe('MISS');
    expect((await chat(key.secret, content)).cache).toBe('HIT (exact)');

    const replaced = await admin('PUT', '/workflows/for-key', { scope: { key: key.id }, guardrails: ['watch-xray'], description: 'v2' });
    expect(replaced.body.version).toBe(2);
    // A new version is a new cache key: the same request misses once, then hits again.
    expect((await chat(key.secret, content)).cache).toBe('MISS');
    expect((await chat(key.secret, content)).cache).toBe('HIT (exact)');
    const versions = (await auditOf(key.id)).map((row) => String(row.policy_version).split('/')[1]);
    expect(versions.sort()).toEqual(['for-key@1', 'for-key@1', 'for-key@2', 'for-key@2']);

    expect((await admin('DELETE', '/workflows/for-key')).body).toMatchObject({ deleted: true, version: 3 });
    expect((await chat(key.secret, text('about zulu'))).code).toBe('guardrail_blocked');
    const history = (await admin('GET', '/workflows/for-key/versions')).body.data as {
      version: number;
      definition: Record<string, unknown> | null;
    }[];
    expect(history.map((entry) => entry.version)).toEqual([1, 2, 3]);
    expect(history[0]?.definition).toMatchObject({ scope: { key: key.id }, guardrails: ['watch-xray'] });
    expect(history[0]?.definition?.description).toBeUndefined();
    expect(history[1]?.definition?.description).toBe('v2');
    expect(history[2]?.definition).toBeNull();
    expect((await admin('GET', '/workflows/for-key')).status).toBe(404);
  });

  it('validates admin bodies with the schema, refuses deleting a config.yaml workflow, lists both sources', async () => {
    const bad = await admin('POST', '/workflows', { name: 'bad', scope: { planet: 'mars' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe('invalid_value');
    expect((await admin('POST', '/workflows', { name: 'bad', cache: 'sometimes' })).status).toBe(400);
    expect((await admin('PUT', '/workflows/other', { name: 'not-other' })).status).toBe(400);
    expect((await admin('DELETE', '/workflows/no-cache')).body.error?.code).toBe('defined_in_config');
    const listed = (await admin('GET', '/workflows')).body.data as { name: string; source: string }[];
    expect(listed.find((entry) => entry.name === 'no-audit')?.source).toBe('config');
    const openapi = (await (await fetch(`${running.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths)).toContain('/admin/api/v1/workflows/{name}/versions');
  });

  it('counts applied workflows in /metrics', async () => {
    const metrics = await (await fetch(`${running.url}/metrics`, { headers: { authorization: `Bearer ${masterKey}` } })).text();
    expect(metrics).toMatch(/modelgate_workflow_applied_total\{workflow="no-usage"\} [1-9]/);
  });
});
