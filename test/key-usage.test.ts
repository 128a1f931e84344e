/**
 * GET /v1/usage (the calling key's own usage, budgets and rate limits) and GET /admin/api/v1/keys/{id}/usage,
 * on SQLite and PostgreSQL, through the real gateway, the official openai SDK and the OpenAI simulator:
 * numbers agree with the admin usage API and the budget counters; another key's calls, id and budgets never
 * show; scopes; OpenAI-shaped errors.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'key-usage-master-key';

type Report = {
  object: string;
  key: { kind: string; id: string | null; name: string | null; user: string | null; team: string | null; tags: string[] };
  start_date: string;
  end_date: string;
  usage: Record<string, number>;
  budgets: {
    id: string;
    scope: string;
    subject: string;
    limit_usd: number;
    spent_usd: number;
    remaining_usd: number;
    resets_at: string;
    period_start: string;
  }[];
  rate_limits: { scope: string; subject: string; name: string; limit: number; remaining: number | null; resets_in_ms: number | null }[];
};

describe.each(['sqlite', 'postgresql'] as const)('key usage on %s', (backendName) => {
  let backend: StorageBackend;
  let simulator: Simulator;
  let running: RunningGateway;

  const call = async (path: string, key: string | null) => {
    const response = await fetch(`${running.url}${path}`, { headers: key === null ? {} : { authorization: `Bearer ${key}` } });
    const text = await response.text();
    return { status: response.status, text, body: JSON.parse(text) as Record<string, unknown> };
  };
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
  const chat = (secret: string, times: number) =>
    Promise.all(
      Array.from({ length: times }, () =>
        new OpenAI({ apiKey: secret, baseURL: `${running.url}/v1`, maxRetries: 0 }).chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'how much have I spent' }],
          max_tokens: 50,
        }),
      ),
    );

  beforeAll(async () => {
    backend = createBackend(backendName);
    simulator = await startOpenAISimulator({ apiKey: 'sk-key-usage' });
    running = await startGateway({
      ...backend.env,
      OPENAI_API_KEY: 'sk-key-usage',
      OPENAI_BASE_URL: simulator.baseUrl,
      MODELGATE_MASTER_KEY: masterKey,
      BUDGET_KEY_DAILY_USD: '5',
      BUDGET_GLOBAL_MONTHLY_USD: '100',
      RATE_LIMIT_KEY_RPM: '100',
      RATE_LIMIT_TEAM_TPD: '1000000',
    });
  });

  afterAll(async () => {
    await running?.close();
    await simulator?.close();
    await backend?.cleanup();
  });

  it("shows a key its own usage, budgets with spend and its rate limits, and nothing of another key's", async () => {
    const alice = await createKey({
      name: 'alice-app',
      user: 'alice',
      team: 'search',
      tags: ['prod'],
      rate_limits: { requests_per_minute: 10, concurrent: 4 },
    });
    const bob = await createKey({ name: 'bob-app', user: 'bob', team: 'ads' });
    const teamBudget = await admin('/budgets', {
      method: 'POST',
      body: { scope: 'team', subject: 'search', limit_usd: 2, period: 'daily' },
    });
    expect(teamBudget.status).toBe(201);
    await chat(alice.secret, 3);
    await chat(bob.secret, 2);

    const answer = await call('/v1/usage', alice.secret);
    expect(answer.status).toBe(200);
    const report = answer.body as unknown as Report;
    expect(report.object).toBe('usage');
    expect(report.key).toEqual({ kind: 'managed_key', id: alice.id, name: 'alice-app', user: 'alice', team: 'search', tags: ['prod'] });
    // Usage: alice's three calls, as the admin API counts them for her key.
    const summary = (await admin(`/usage/summary?key_id=${alice.id}`)).body;
    expect(report.usage.requests).toBe(3);
    expect(report.usage).toEqual(Object.fromEntries(Object.keys(report.usage).map((name) => [name, summary[name]])));
    expect(report.usage.cost_usd).toBeGreaterThan(0);

    // Budgets: each key's daily, the search team's and the global monthly; spend as the budget counters hold it.
    const byScope = Object.fromEntries(report.budgets.map((budget) => [budget.scope, budget]));
    expect(Object.keys(byScope).sort()).toEqual(['global', 'key', 'team']);
    expect(byScope.key).toMatchObject({ subject: alice.id, limit_usd: 5 });
    expect(byScope.team).toMatchObject({ id: teamBudget.body.id, subject: 'search', limit_usd: 2 });
    expect(byScope.key?.spent_usd).toBeCloseTo(report.usage.cost_usd ?? 0, 9);
    expect(byScope.team?.spent_usd).toBeCloseTo(report.usage.cost_usd ?? 0, 9);
    expect(byScope.key?.remaining_usd).toBeCloseTo(5 - (byScope.key?.spent_usd ?? 0), 9);
    // The global budget counts every call (alice's and bob's), as the budget admin API shows it.
    const globalBudget = ((await admin('/budgets')).body.data as { scope: string; spent_usd: number }[]).find(
      (budget) => budget.scope === 'global',
    );
    expect(byScope.global?.spent_usd).toBeCloseTo(globalBudget?.spent_usd ?? Number.NaN, 9);
    expect(byScope.global?.spent_usd).toBeGreaterThan(byScope.key?.spent_usd ?? 0);
    const tomorrow = new Date(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`).getTime() + 86_400_000;
    expect(Date.parse(byScope.key?.resets_at ?? '')).toBe(tomorrow);

    // Rate limits: the key's own (replacing the per-key 100 rpm) and its team's; three requests taken.
    const limits = Object.fromEntries(report.rate_limits.map((limit) => [`${limit.scope}:${limit.name}`, limit]));
    expect(Object.keys(limits).sort()).toEqual(['key:concurrent', 'key:requests_per_minute', 'team:tokens_per_day']);
    expect(limits['key:requests_per_minute']).toMatchObject({ subject: alice.id, limit: 10 });
    expect(limits['key:requests_per_minute']?.remaining).toBeGreaterThanOrEqual(7);
    expect(limits['key:requests_per_minute']?.remaining).toBeLessThanOrEqual(8);
    expect(limits['key:requests_per_minute']?.resets_in_ms).toBeGreaterThan(0);
    // GCRA replenishes continuously (1,000,000 a day is about 12 tokens a second).
    const tokensLeft = limits['team:tokens_per_day']?.remaining ?? Number.NaN;
    expect(tokensLeft).toBeGreaterThanOrEqual(1_000_000 - (report.usage.total_tokens ?? 0));
    expect(tokensLeft).toBeLessThan(1_000_000 - (report.usage.total_tokens ?? 0) + 60);
    expect(tokensLeft).toBeLessThan(1_000_000);
    // No call of alice's in flight: every slot free.
    expect(limits['key:concurrent']).toMatchObject({ limit: 4, remaining: 4, resets_in_ms: null });
    // Reading the report takes nothing from the windows.
    const again = (await call('/v1/usage', alice.secret)).body as unknown as Report;
    expect(again.rate_limits.find((limit) => limit.name === 'requests_per_minute')?.remaining).toBeGreaterThanOrEqual(
      limits['key:requests_per_minute']?.remaining ?? Number.NaN,
    );

    // Nothing of bob: not his id, user, team, calls or secret.
    for (const secret of [alice.secret, bob.secret]) expect(answer.text).not.toContain(secret);
    expect(answer.text).not.toContain(bob.id);
    expect(answer.text).not.toContain('"ads"');
    const bobs = (await call('/v1/usage', bob.secret)).body as unknown as Report;
    expect(bobs.usage.requests).toBe(2);
    expect(bobs.budgets.map((budget) => budget.scope).sort()).toEqual(['global', 'key']);
    expect(JSON.stringify(bobs)).not.toContain(alice.id);
    // Query parameters cannot widen it to another key.
    const widened = (await call(`/v1/usage?key_id=${bob.id}`, alice.secret)).body as unknown as Report;
    expect(widened.usage.requests).toBe(3);
    expect(widened.key.id).toBe(alice.id);

    // The admin Keys page sees the same report for any key.
    const viaAdmin = await admin(`/keys/${bob.id}/usage`);
    expect(viaAdmin.status).toBe(200);
    expect((viaAdmin.body as unknown as Report).usage).toEqual(bobs.usage);
    expect((viaAdmin.body as unknown as Report).budgets.map((budget) => budget.spent_usd)).toEqual(
      bobs.budgets.map((budget) => budget.spent_usd),
    );
  });

  it('reports the concurrency left while calls are in flight, and all of it once they end', async () => {
    const carol = await createKey({ name: 'carol-app', rate_limits: { concurrent: 3 } });
    const concurrency = async () => {
      const report = (await call('/v1/usage', carol.secret)).body as unknown as Report;
      return report.rate_limits.find((limit) => limit.name === 'concurrent');
    };
    expect(await concurrency()).toMatchObject({ scope: 'key', subject: carol.id, limit: 3, remaining: 3 });
    // Two calls held upstream for a while (the simulator's sim-slow-<ms> model delays its answer).
    const slow = () =>
      fetch(`${running.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${carol.secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openai/sim-slow-1500', messages: [{ role: 'user', content: 'wait' }] }),
      });
    const inFlight = [slow(), slow()];
    let during: Awaited<ReturnType<typeof concurrency>>;
    for (let attempt = 0; attempt < 40; attempt++) {
      during = await concurrency();
      if (during?.remaining === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(during).toMatchObject({ limit: 3, remaining: 1 });
    // The admin Keys page reads the same.
    const viaAdmin = (await admin(`/keys/${carol.id}/usage`)).body as unknown as Report;
    expect(viaAdmin.rate_limits.find((limit) => limit.name === 'concurrent')?.remaining).toBe(1);
    for (const response of await Promise.all(inFlight)) expect(response.status).toBe(200);
    expect(await concurrency()).toMatchObject({ limit: 3, remaining: 3 });
  });

  it('takes the date range of the admin usage endpoints', async () => {
    const key = await createKey({});
    await chat(key.secret, 1);
    const today = new Date().toISOString().slice(0, 10);
    expect(((await call(`/v1/usage?start_date=${today}&end_date=${today}`, key.secret)).body as unknown as Report).usage.requests).toBe(1);
    const past = (await call('/v1/usage?start_date=2020-01-01&end_date=2020-01-31', key.secret)).body as unknown as Report;
    expect(past).toMatchObject({ start_date: '2020-01-01', end_date: '2020-01-31' });
    expect(past.usage.requests).toBe(0);
    const days = (await call('/v1/usage?days=7', key.secret)).body as unknown as Report;
    expect(days.end_date).toBe(today);
    expect(days.usage.requests).toBe(1);
  });

  it('answers the master key with its own calls and the global budgets and limits', async () => {
    await chat(masterKey, 1);
    const report = (await call('/v1/usage', masterKey)).body as unknown as Report;
    expect(report.key).toEqual({ kind: 'master', id: null, name: null, user: null, team: null, tags: [] });
    const masterRecords = ((await admin('/usage/log?limit=500')).body.data as { key_id: string }[]).filter((entry) =>
      entry.key_id.startsWith('master:'),
    );
    expect(report.usage.requests).toBe(masterRecords.length);
    expect(report.budgets.map((budget) => budget.scope)).toEqual(['global']);
    expect(report.rate_limits).toEqual([]);
  });

  it('refuses in the OpenAI error shape: no key, bad dates, a key without inference scope, an unknown key', async () => {
    const missing = await call('/v1/usage', null);
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatchObject({ code: 'missing_api_key' });
    const key = await createKey({});
    const bad = await call('/v1/usage?start_date=2026-02-30x', key.secret);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ param: 'start_date', type: 'invalid_request_error' });
    const repeated = await call('/v1/usage?start_date=2026-01-01&start_date=x&end_date=2026-01-02&end_date=y&days=1&days=2', key.secret);
    expect(repeated.status).toBe(200);
    expect(repeated.body).toMatchObject({ start_date: '2026-01-01', end_date: '2026-01-02' });
    const adminOnly = await createKey({ scopes: ['admin'] });
    const forbidden = await call('/v1/usage', adminOnly.secret);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toMatchObject({ code: 'insufficient_scope' });
    // An inference key cannot read another key's report through the admin API.
    expect((await call(`/admin/api/v1/keys/${adminOnly.id}/usage`, key.secret)).status).toBe(403);
    const unknown = await admin('/keys/key_000000000000000000000000/usage');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'key_not_found' });
  });
});
