/**
 * The guardrails admin API on one gateway (SQLite): create, read, replace, delete, versions,
 * validation errors, redacted webhook headers, configured guardrails (listed, not deletable,
 * replaced by a stored one of the same name), the effect on calls at once, and /openapi.json.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

type Json = Record<string, unknown>;

let simulator: Simulator;
let running: RunningGateway;
let client: OpenAI;
let directory: string;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'modelgate-guardrails-admin-'));
  writeFileSync(
    join(directory, 'config.yaml'),
    `
guardrails:
  enabled: true
  rules:
    - name: configured-words
      type: denylist
      words: [alpha]
`,
  );
  simulator = await startOpenAISimulator({ apiKey: 'sk-openai' });
  running = await startGateway(
    {
      OPENAI_API_KEY: 'sk-openai',
      OPENAI_BASE_URL: simulator.baseUrl,
      MODELGATE_MASTER_KEY: 'mg-admin',
      SQLITE_PATH: join(directory, 'gateway.db'),
    },
    { cwd: directory },
  );
  client = new OpenAI({ apiKey: 'mg-admin', baseURL: `${running.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await running?.close();
  await simulator?.close();
  if (directory) rmSync(directory, { recursive: true, force: true });
});

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${running.url}/admin/api/v1${path}`, {
    method,
    headers: { authorization: 'Bearer mg-admin', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

async function blocked(content: string): Promise<string | null> {
  try {
    await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content }] });
    return null;
  } catch (error) {
    return error instanceof OpenAI.APIError ? String(error.code) : 'other';
  }
}

describe('guardrails admin API', () => {
  it('needs the master key', async () => {
    const response = await fetch(`${running.url}/admin/api/v1/guardrails`);
    expect(response.status).toBe(401);
  });

  it('lists configured guardrails and refuses to delete them', async () => {
    const listed = await admin('GET', '/guardrails');
    expect(listed.body.data).toEqual([
      expect.objectContaining({ name: 'configured-words', type: 'denylist', source: 'config', version: null }),
    ]);
    expect((await admin('DELETE', '/guardrails/configured-words')).status).toBe(409);
  });

  it('creates, replaces and deletes a stored guardrail, versioned, in force at once', async () => {
    expect(await blocked('tell me about bravo')).toBeNull();
    const created = await admin('POST', '/guardrails', { name: 'no-bravo', type: 'regex', patterns: ['bravo'] });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ name: 'no-bravo', type: 'regex', action: 'block', order: 0, source: 'admin', version: 1 });
    expect(await blocked('tell me about bravo')).toBe('guardrail_blocked');

    const replaced = await admin('PUT', '/guardrails/no-bravo', { type: 'regex', patterns: ['charlie'], action: 'flag' });
    expect(replaced.body).toMatchObject({ name: 'no-bravo', version: 2, action: 'flag', patterns: ['charlie'] });
    expect(await blocked('tell me about bravo')).toBeNull();
    expect((await admin('GET', '/guardrails/no-bravo')).body).toMatchObject({ version: 2 });

    const removed = await admin('DELETE', '/guardrails/no-bravo');
    expect(removed.body).toEqual({ name: 'no-bravo', deleted: true, version: 3 });
    expect((await admin('GET', '/guardrails/no-bravo')).status).toBe(404);
    const versions = await admin('GET', '/guardrails/no-bravo/versions');
    expect((versions.body.data as Json[]).map((entry) => [entry.version, (entry.definition as Json | null)?.action ?? null])).toEqual([
      [1, 'block'],
      [2, 'flag'],
      [3, null],
    ]);
  });

  it('replaces a configured guardrail with a stored one of the same name, and brings it back on delete', async () => {
    expect(await blocked('alpha')).toBe('guardrail_blocked');
    await admin('POST', '/guardrails', { name: 'configured-words', type: 'denylist', words: ['alpha'], action: 'flag' });
    expect(await blocked('alpha')).toBeNull();
    await admin('DELETE', '/guardrails/configured-words');
    expect(await blocked('alpha')).toBe('guardrail_blocked');
  });

  it('validates definitions with the configuration schema and names the field', async () => {
    const badRegex = await admin('POST', '/guardrails', { name: 'bad', type: 'regex', patterns: ['('] });
    expect(badRegex.status).toBe(400);
    expect((badRegex.body.error as Json).message).toMatch(/^patterns\.0: not a valid regular expression/);
    const badPhase = await admin('POST', '/guardrails', { name: 'bad', type: 'system_prompt', content: 'x', phase: 'output' });
    expect((badPhase.body.error as Json).message).toMatch(/^phase: /);
    const badType = await admin('POST', '/guardrails', { name: 'bad', type: 'telepathy' });
    expect(badType.status).toBe(400);
    const mismatch = await admin('PUT', '/guardrails/one', { name: 'two', type: 'regex', patterns: ['x'] });
    expect(mismatch.status).toBe(400);
    const badSchema = await admin('POST', '/guardrails', { name: 'bad', type: 'json_schema', schema: { type: 'nonsense' } });
    expect(badSchema.status).toBe(400);
  });

  it('never shows webhook header values', async () => {
    const created = await admin('POST', '/guardrails', {
      name: 'hook',
      type: 'webhook',
      url: 'http://127.0.0.1:9/x',
      headers: { authorization: 'Bearer top-secret' },
      enabled: false,
    });
    expect(created.body.headers).toEqual({ authorization: '[redacted]' });
    const versions = await admin('GET', '/guardrails/hook/versions');
    expect(JSON.stringify(versions.body)).not.toContain('top-secret');
    await admin('DELETE', '/guardrails/hook');
  });

  it('documents the routes with their schemas in /openapi.json', async () => {
    const document = (await (await fetch(`${running.url}/openapi.json`)).json()) as { paths: Record<string, Json> };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/admin/api/v1/guardrails', '/admin/api/v1/guardrails/{name}', '/admin/api/v1/guardrails/{name}/versions']),
    );
    expect(JSON.stringify(document.paths['/admin/api/v1/guardrails'])).toContain('json_schema');
  });
});
