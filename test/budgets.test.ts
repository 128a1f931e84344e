/**
 * Budgets through a real gateway (embedded state, SQLite): the admin API (CRUD, validation, read-only
 * configured budgets, /openapi.json), many parallel calls against a tiny budget never spending past it
 * (sum of the recorded costs <= budget, the counter equal to that sum), 429 budget_exceeded with
 * Retry-After to the period's end in the OpenAI and Anthropic shapes, streams settled at their end, client
 * aborts never leaking a reservation, and the soft-threshold webhook sent once.
 */
import { createServer, type Server } from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'budgets-master-key';
let backend: StorageBackend;
let simulator: Simulator;
let running: RunningGateway;
let webhook: Server;
const alerts: Record<string, unknown>[] = [];

beforeAll(async () => {
  webhook = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    request.on('end', () => {
      alerts.push(JSON.parse(text) as Record<string, unknown>);
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  const address = webhook.address() as { port: number };
  backend = createBackend('sqlite');
  simulator = await startOpenAISimulator({ apiKey: 'sk-budget', chunkDelayMs: 5 });
  running = await startGateway({
    ...backend.env,
    OPENAI_API_KEY: 'sk-budget',
    OPENAI_BASE_URL: simulator.baseUrl,
    MODELGATE_MASTER_KEY: masterKey,
    BUDGET_TEAM_MONTHLY_USD: '1000',
    BUDGET_ALERT_WEBHOOK_URL: `http://127.0.0.1:${address.port}/hook`,
  });
});

afterAll(async () => {
  await running?.close();
  await simulator?.close();
  await new Promise((resolve) => webhook?.close(resolve));
  await backend?.cleanup();
});

interface BudgetBody {
  id: string;
  spent_usd: number | null;
  limit_usd: number;
  source: string;
  current_period: { start: string; end: string };
  error?: { code: string; param: string | null };
}

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: BudgetBody & { data: BudgetBody[] } }> {
  const response = await fetch(`${running.url}/admin/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as BudgetBody & { data: BudgetBody[] } };
}

async function createKey(fields: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
  const created = await admin('POST', '/keys', fields);
  expect(created.status).toBe(201);
  const body = created.body as unknown as { id: string; key: string };
  return { id: body.id, secret: body.key };
}

function chat(secret: string, extra: Record<string, unknown> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${running.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 20, messages: [{ role: 'user', content: 'hello there' }], ...extra }),
    ...(signal ? { signal } : {}),
  });
}

/** Recorded cost of a key's calls, once the usage writer has flushed `count` rows. */
async function recordedCost(keyId: string, count: number): Promise<number> {
  const db = running.gateway.storage?.db;
  if (!db) throw new Error('no storage');
  let total = 0;
  await expect
    .poll(
      async () => {
        const row = await db
          .selectFrom('usage')
          .select([sql<number>`count(*)`.as('calls'), sql<number>`coalesce(sum(cost_usd), 0)`.as('cost')])
          .where('key_id', '=', keyId)
          .where('status', '=', 200)
          .executeTakeFirstOrThrow();
        total = Number(row.cost);
        return Number(row.calls);
      },
      { timeout: 10_000, interval: 50 },
    )
    .toBe(count);
  return total;
}

describe('budget admin API', () => {
  it('creates, lists, reads, replaces and deletes budgets; validates; configured budgets are read-only', async () => {
    const created = await admin('POST', '/budgets', { name: 'team search', scope: 'team', subject: 'search', limit_usd: 25, period: 'daily' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ object: 'budget', scope: 'team', subject: 'search', limit_usd: 25, period: 'daily', spent_usd: 0, source: 'admin', soft_threshold: 0.8 });
    const id = created.body.id;
    expect((await admin('GET', `/budgets/${id}`)).body.limit_usd).toBe(25);
    const replaced = await admin('PUT', `/budgets/${id}`, { scope: 'team', subject: 'search', limit_usd: 30, period: 'custom', period_seconds: 3600 });
    expect(replaced.body).toMatchObject({ limit_usd: 30, period: 'custom', period_seconds: 3600 });
    const list = await admin('GET', '/budgets');
    const configured = list.body.data.find((budget) => budget.source === 'config');
    expect(configured).toMatchObject({ scope: 'team', subject: '*', limit_usd: 1000, period: 'monthly', spent_usd: null });
    expect((await admin('PUT', `/budgets/${configured?.id}`, { scope: 'global', limit_usd: 1, period: 'daily' })).body.error?.code).toBe('budget_read_only');
    expect((await admin('POST', '/budgets', { scope: 'key', limit_usd: 1, period: 'custom' })).body.error?.param).toBe('period_seconds');
    expect((await admin('POST', '/budgets', { scope: 'planet', limit_usd: 1, period: 'daily' })).status).toBe(400);
    expect((await admin('POST', '/budgets', { scope: 'key', limit_usd: -1, period: 'daily' })).status).toBe(400);
    expect((await admin('POST', '/budgets', { scope: 'key', limit_usd: 1, period: 'daily', extra: true })).status).toBe(400);
    expect((await admin('DELETE', `/budgets/${id}`)).body).toMatchObject({ id, deleted: true });
    expect((await admin('GET', `/budgets/${id}`)).status).toBe(404);
    const openapi = (await (await fetch(`${running.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(openapi.paths['/admin/api/v1/budgets'] ?? {})).toEqual(['get', 'post']);
    expect(Object.keys(openapi.paths['/admin/api/v1/budgets/{id}'] ?? {}).sort()).toEqual(['delete', 'get', 'put']);
  });
});

describe('budget enforcement', { timeout: 60_000 }, () => {
  it('many parallel calls against a tiny budget never spend past it', async () => {
    const { id: keyId, secret } = await createKey({ name: 'tiny' });
    // gpt-4o-mini: $0.15 / $0.60 per 1M tokens; each call's worst case is ~$0.00004, its real cost ~$0.000005.
    const limit = 0.0002;
    const budget = await admin('POST', '/budgets', { scope: 'key', subject: keyId, limit_usd: limit, period: 'monthly' });
    const results = await Promise.all(Array.from({ length: 80 }, () => chat(secret).then(async (response) => ({ status: response.status, headers: response.headers, body: (await response.json()) as { error?: { code: string; message: string } } }))));
    const admitted = results.filter((result) => result.status === 200).length;
    const refused = results.filter((result) => result.status === 429);
    expect(admitted).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(admitted + refused.length).toBe(80);
    expect(refused[0]?.body.error?.code).toBe('budget_exceeded');
    expect(refused[0]?.body.error?.message).toContain('This API key has spent');
    const retryAfter = Number(refused[0]?.headers.get('retry-after'));
    const periodEnd = Date.parse(budget.body.current_period.end);
    expect(Math.abs(Date.now() + retryAfter * 1000 - periodEnd)).toBeLessThan(60_000);
    const spent = await recordedCost(keyId, admitted);
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBeLessThanOrEqual(limit);
    // Every reservation was settled to the real cost: the counter is the recorded spend (to the nano-dollar per call).
    await expect.poll(async () => (await admin('GET', `/budgets/${budget.body.id}`)).body.spent_usd, { timeout: 5_000 }).toBeCloseTo(spent, 8);
  });

  it('settles a stream at its end and refuses in the Anthropic shape once spent', async () => {
    const { id: keyId, secret } = await createKey({ name: 'stream' });
    const budget = await admin('POST', '/budgets', { scope: 'key', subject: keyId, limit_usd: 0.00006, period: 'daily' });
    const stream = await chat(secret, { stream: true, stream_options: { include_usage: true } });
    expect(stream.status).toBe(200);
    await stream.text();
    const spent = await recordedCost(keyId, 1);
    await expect.poll(async () => (await admin('GET', `/budgets/${budget.body.id}`)).body.spent_usd).toBeCloseTo(spent, 8);
    const client = new Anthropic({ apiKey: secret, baseURL: running.url, maxRetries: 0 });
    let error: unknown;
    for (let index = 0; index < 20 && error === undefined; index++) {
      error = await client.messages
        .create({ model: 'gpt-4o-mini', max_tokens: 20, messages: [{ role: 'user', content: 'hello there' }] })
        .then(() => undefined)
        .catch((caught: unknown) => caught);
    }
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect((error as InstanceType<typeof Anthropic.RateLimitError>).error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect((error as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after')).toMatch(/^\d+$/);
  });

  it('a client abort mid-stream leaves no reservation in flight beyond its worst case', async () => {
    const { id: keyId, secret } = await createKey({ name: 'abort' });
    const budget = await admin('POST', '/budgets', { scope: 'key', subject: keyId, limit_usd: 1, period: 'daily' });
    const controller = new AbortController();
    const long = 'word '.repeat(200);
    const response = await chat(secret, { stream: true, messages: [{ role: 'user', content: long }] }, controller.signal);
    const reader = response.body?.getReader();
    await reader?.read();
    controller.abort();
    await expect.poll(() => simulator.requests.some((request) => request.aborted), { timeout: 10_000 }).toBe(true);
    // Settled: either to the usage seen or, without usage, kept at the worst case; never more, never still counting.
    const worstCase = (Buffer.byteLength(JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 20, messages: [{ role: 'user', content: long }], stream: true })) * 0.15 + 20 * 0.6) / 1e6;
    await expect.poll(async () => (await admin('GET', `/budgets/${budget.body.id}`)).body.spent_usd, { timeout: 5_000 }).toBeGreaterThan(0);
    expect((await admin('GET', `/budgets/${budget.body.id}`)).body.spent_usd).toBeLessThanOrEqual(worstCase + 1e-9);
    // A failed call gives its reservation back.
    const before = (await admin('GET', `/budgets/${budget.body.id}`)).body.spent_usd;
    expect((await chat(secret, { model: 'openai/sim-server-error' })).status).toBeGreaterThanOrEqual(500);
    expect((await admin('GET', `/budgets/${budget.body.id}`)).body.spent_usd).toBe(before);
  });

  it('raises the soft-threshold alert once per period, through the webhook', async () => {
    const { id: keyId, secret } = await createKey({ name: 'alert', team: 'alerting' });
    await admin('POST', '/budgets', { name: 'alerting', scope: 'team', subject: 'alerting', limit_usd: 0.0001, period: 'hourly', soft_threshold: 0.1 });
    let admitted = 0;
    for (let index = 0; index < 4; index++) {
      const response = await chat(secret);
      await response.arrayBuffer();
      if (response.status === 200) admitted++;
    }
    expect(admitted).toBe(4);
    await expect.poll(() => alerts.filter((alert) => alert.budget_name === 'alerting').length, { timeout: 5_000 }).toBe(1);
    expect(alerts.find((alert) => alert.budget_name === 'alerting')).toMatchObject({ type: 'budget.soft_threshold', scope: 'team', subject: 'alerting', threshold: 0.1, limit_usd: 0.0001 });
    await recordedCost(keyId, 4);
    const metrics = await (await fetch(`${running.url}/metrics`, { headers: { authorization: `Bearer ${masterKey}` } })).text();
    expect(metrics).toMatch(/modelgate_budget_alerts_total\{scope="team"\} 1/);
  });

  it("a key's calls follow budgets created, replaced and deleted between them, and a change of the key's tags", async () => {
    // The stage keeps each key's counters between calls: every change must still reach the next call.
    const { id: keyId, secret } = await createKey({ name: 'changing budgets' });
    const status = async () => {
      const response = await chat(secret);
      await response.arrayBuffer();
      return response.status;
    };
    expect(await status()).toBe(200);
    // A budget too small for one call's worst case refuses the next call at once.
    const tiny = await admin('POST', '/budgets', { scope: 'key', subject: keyId, limit_usd: 0.000001, period: 'daily' });
    expect(tiny.status).toBe(201);
    expect(await status()).toBe(429);
    expect((await admin('PUT', `/budgets/${tiny.body.id}`, { scope: 'key', subject: keyId, limit_usd: 10, period: 'daily' })).status).toBe(200);
    expect(await status()).toBe(200);
    expect((await admin('DELETE', `/budgets/${tiny.body.id}`)).status).toBe(200);
    const tagged = await admin('POST', '/budgets', { scope: 'tag', subject: 'changing-tag', limit_usd: 0.000001, period: 'daily' });
    expect(await status()).toBe(200);
    expect((await admin('POST', `/keys/${keyId}`, { tags: ['changing-tag'] })).status).toBe(200);
    expect(await status()).toBe(429);
    expect((await admin('DELETE', `/budgets/${tagged.body.id}`)).status).toBe(200);
    expect(await status()).toBe(200);
  });

  it('a tag budget with subject * counts each tag on its own, shared by every key carrying it', async () => {
    const first = await createKey({ name: 'tag one', tags: ['tag-a'] });
    const second = await createKey({ name: 'tag two', tags: ['tag-a'] });
    const other = await createKey({ name: 'tag three', tags: ['tag-b'] });
    await admin('POST', '/budgets', { scope: 'tag', subject: '*', limit_usd: 0.00005, period: 'weekly' });
    const statuses: number[] = [];
    for (let index = 0; index < 10; index++) {
      const response = await chat(index % 2 === 0 ? first.secret : second.secret);
      await response.arrayBuffer();
      statuses.push(response.status);
    }
    expect(statuses).toContain(429);
    const admitted = statuses.filter((status) => status === 200).length;
    const spent = (await recordedCost(first.id, statuses.filter((status, index) => status === 200 && index % 2 === 0).length)) +
      (await recordedCost(second.id, statuses.filter((status, index) => status === 200 && index % 2 === 1).length));
    expect(admitted).toBeGreaterThan(0);
    expect(spent).toBeLessThanOrEqual(0.00005);
    // tag-b has its own budget, untouched by tag-a's spend.
    expect((await chat(other.secret)).status).toBe(200);
  });
});
