/**
 * Rate limits through a real gateway (embedded state) and the official OpenAI and Anthropic clients:
 * requests per minute per key (configured default, replaced by a key's own limits through the admin API),
 * x-ratelimit-* headers, 429 rate_limit_exceeded in each API's shape with Retry-After, tokens per minute
 * taken when a call ends, concurrent requests released when a stream ends, and model limits that make a
 * virtual model skip the full target.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'rate-limits-master-key';
let backend: StorageBackend;
let simulator: Simulator;
let groq: Simulator;
let running: RunningGateway;

beforeAll(async () => {
  backend = createBackend('sqlite');
  simulator = await startOpenAISimulator({ apiKey: 'sk-rl' });
  groq = await startOpenAISimulator({ flavor: 'groq', apiKey: 'gsk-rl', models: ['llama-3.3-70b-versatile'] });
  running = await startGateway({
    ...backend.env,
    OPENAI_API_KEY: 'sk-rl',
    OPENAI_BASE_URL: simulator.baseUrl,
    GROQ_API_KEY: 'gsk-rl',
    GROQ_BASE_URL: groq.baseUrl,
    MODELGATE_MASTER_KEY: masterKey,
    RATE_LIMIT_KEY_RPM: '3',
    RATE_LIMIT_TEAM_TPM: '40',
  });
});

afterAll(async () => {
  await running?.close();
  await simulator?.close();
  await groq?.close();
  await backend?.cleanup();
});

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${running.url}/admin/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function createKey(fields: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
  const created = await admin('POST', '/keys', fields);
  expect(created.status).toBe(201);
  return { id: created.body.id as string, secret: created.body.key as string };
}

function chat(secret: string, model = 'gpt-4o-mini', extra: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${running.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }], ...extra }),
  });
}

describe('rate limits', { timeout: 30_000 }, () => {
  it('admits the per-key requests per minute, with x-ratelimit headers, then refuses with 429 rate_limit_exceeded', async () => {
    const { secret } = await createKey();
    const remaining: string[] = [];
    for (let index = 0; index < 3; index++) {
      const response = await chat(secret);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ratelimit-limit-requests')).toBe('3');
      expect(response.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(\.\d+)?m?s$|^\d+m[\d.]+s$/);
      remaining.push(response.headers.get('x-ratelimit-remaining-requests') ?? '');
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const refused = await chat(secret);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(20);
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    const body = (await refused.json()) as { error: { code: string; type: string; message: string } };
    expect(body.error).toMatchObject({ code: 'rate_limit_exceeded', type: 'rate_limit_error' });
    expect(body.error.message).toContain('this API key');
    // The upstream saw only the three admitted calls of this key.
    const client = new OpenAI({ apiKey: secret, baseURL: `${running.url}/v1`, maxRetries: 0 });
    const error = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('rate_limit_exceeded');
  });

  it('refuses in the Anthropic shape on /v1/messages', async () => {
    const { secret } = await createKey();
    const client = new Anthropic({ apiKey: secret, baseURL: running.url, maxRetries: 0 });
    for (let index = 0; index < 3; index++) {
      await client.messages.create({ model: 'gpt-4o-mini', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    }
    const error = await client.messages.create({ model: 'gpt-4o-mini', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    const failure = error as InstanceType<typeof Anthropic.RateLimitError>;
    expect(failure.status).toBe(429);
    expect(failure.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(failure.headers?.get('retry-after')).toMatch(/^\d+$/);
  });

  it("a key's own limits (admin API) replace the per-key default, and an empty set restores it", async () => {
    const { id, secret } = await createKey({ rate_limits: { requests_per_minute: 1 } });
    expect((await admin('GET', `/keys/${id}`)).body.rate_limits).toEqual({ requests_per_minute: 1 });
    expect((await chat(secret)).status).toBe(200);
    expect((await chat(secret)).status).toBe(429);
    const updated = await admin('POST', `/keys/${id}`, { rate_limits: { requests_per_minute: 5 } });
    expect(updated.status).toBe(200);
    const after = await chat(secret);
    expect(after.status).toBe(200);
    expect(after.headers.get('x-ratelimit-limit-requests')).toBe('5');
    expect((await admin('POST', `/keys/${id}`, { rate_limits: { requests_per_minute: 0 } })).status).toBe(400);
    expect((await admin('POST', `/keys/${id}`, { rate_limits: {} })).body.rate_limits).toEqual({});
    const restored = await chat(secret);
    expect(restored.headers.get('x-ratelimit-limit-requests')).toBe('3');
  });

  it('takes tokens when a call ends: a team over its tokens per minute is refused until the window recovers', async () => {
    const { secret } = await createKey({ team: 'tokens-team', rate_limits: { requests_per_minute: 100 } });
    const first = await chat(secret);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('40');
    const usage = ((await first.json()) as { usage: { total_tokens: number } }).usage.total_tokens;
    expect(usage).toBeGreaterThan(0);
    // Streamed calls count too (usage read at the stream's end).
    let last: Response | undefined;
    for (let index = 0; index < 40; index++) {
      last = await chat(secret, 'gpt-4o-mini', { stream: true });
      if (last.status === 429) break;
      await last.text();
    }
    expect(last?.status).toBe(429);
    const body = (await (last as Response).json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('rate_limit_exceeded');
    expect(body.error.message).toContain("team 'tokens-team'");
    expect(body.error.message).toContain('tokens per minute');
  });

  it('counts concurrent requests until a stream ends', async () => {
    const { secret } = await createKey({ rate_limits: { concurrent: 1 } });
    const slow = chat(secret, 'openai/sim-slow-400');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = await chat(secret);
    expect(second.status).toBe(429);
    expect(((await second.json()) as { error: { message: string } }).error.message).toContain('concurrent');
    expect((await slow).status).toBe(200);
    const stream = await chat(secret, 'gpt-4o-mini', { stream: true });
    await stream.text();
    expect((await chat(secret)).status).toBe(200);
  });
});

describe('model and provider limits', { timeout: 30_000 }, () => {
  let limited: RunningGateway;
  beforeAll(async () => {
    limited = await startGateway({
      ...backend.env,
      SQLITE_PATH: `${backend.settings.sqlitePath}.models`,
      OPENAI_API_KEY: 'sk-rl',
      OPENAI_BASE_URL: simulator.baseUrl,
      GROQ_API_KEY: 'gsk-rl',
      GROQ_BASE_URL: groq.baseUrl,
      MODELGATE_MASTER_KEY: masterKey,
    }, {
      cwd: await configDir(
        [
          'virtual_models:',
          '  pool: { strategy: priority, targets: [{ model: openai/gpt-4o, priority: 0 }, { model: groq/llama-3.3-70b-versatile, priority: 1 }] }',
          'rate_limits:',
          '  models:',
          '    openai/gpt-4o: { requests_per_minute: 2 }',
        ].join('\n'),
      ),
    });
  });
  afterAll(async () => {
    await limited?.close();
  });

  it('a virtual model skips a target whose model limit is full (also for the master key)', async () => {
    const call = async () => {
      const response = await fetch(`${limited.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'pool', messages: [{ role: 'user', content: 'who?' }] }),
      });
      return { status: response.status, provider: response.headers.get('x-modelgate-provider') };
    };
    expect(await call()).toEqual({ status: 200, provider: 'openai' });
    expect(await call()).toEqual({ status: 200, provider: 'openai' });
    // The third finds openai/gpt-4o full and is refused there (no fallback list); the target is then skipped while full.
    expect((await call()).status).toBe(429);
    expect(await call()).toEqual({ status: 200, provider: 'groq' });
  });
});

async function configDir(yaml: string): Promise<string> {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const directory = mkdtempSync(join(tmpdir(), 'modelgate-rl-config-'));
  writeFileSync(join(directory, 'config.yaml'), yaml);
  return directory;
}
