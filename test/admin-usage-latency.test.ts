/**
 * GET /admin/api/v1/usage/latency on SQLite and PostgreSQL: p50/p95/p99 per provider and per provider and
 * model, from rows seeded with known latencies (within the documented precision of the exact nearest-rank
 * value) and from real calls through the gateway (sim-slow-<ms> on the OpenAI simulator).
 */
import { describe, expect, it } from 'vitest';
import { relativePrecision } from '../src/admin/latency-histogram.ts';
import type { UsageTable } from '../src/storage/database.ts';
import { createRandom } from './helpers/seeded-random.ts';
import { useSeededUsageGateway } from './helpers/seeded-usage-gateway.ts';

const masterKey = 'latency-master-key';
const base = Date.UTC(2026, 10, 10);
const day = 86_400_000;

type Group = {
  provider: string | null;
  model: string | null;
  requests: number;
  error_requests: number;
  error_rate: number;
  average_latency_ms: number;
} & Record<`latency_p${50 | 95 | 99}_ms`, number>;

function exactPercentile(values: number[], p: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1] ?? 0;
}

function seedRows(): UsageTable[] {
  const random = createRandom(77);
  const targets = [
    { provider: 'openai', model: 'gpt-4o', scale: 800 },
    { provider: 'openai', model: 'gpt-4o-mini', scale: 300 },
    { provider: 'anthropic', model: 'claude-haiku', scale: 1500 },
  ];
  return Array.from({ length: 900 }, (_, index) => {
    const target = targets[index % targets.length] as (typeof targets)[number];
    const created = base + Math.floor(random() * day);
    const status = random() < 0.05 ? 502 : 200;
    return {
      id: `latency-${index}`,
      request_id: `req-latency-${index}`,
      created_at: created,
      day: new Date(created).toISOString().slice(0, 10),
      endpoint: 'chat.completions',
      provider: target.provider,
      provider_type: target.provider,
      model: target.model,
      requested_model: target.model,
      stream: 0,
      status,
      error_code: status === 200 ? null : 'upstream_error',
      input_tokens: 10,
      output_tokens: 10,
      total_tokens: 20,
      cached_tokens: 0,
      reasoning_tokens: 0,
      cache_write_tokens: 0,
      cost_usd: 0.00001,
      priced: 1,
      key_id: null,
      key_user: null,
      key_team: null,
      key_tags: null,
      latency_ms: Math.round(target.scale * (0.2 + random() * random() * 5) * 1000) / 1000,
      first_byte_ms: null,
      cache_status: 'none',
      saved_cost_usd: null,
    };
  });
}

describe.each(['sqlite', 'postgresql'] as const)('latency per provider and model on %s', (backendName) => {
  const rows = seedRows();
  const running = useSeededUsageGateway(backendName, {
    apiKey: 'sk-latency',
    models: ['sim-slow-60', 'sim-slow-250', 'gpt-4o-mini'],
    masterKey,
    rows,
  });

  const latency = async (query: string) => {
    const response = await fetch(`${running.url}/admin/api/v1/usage/latency?${query}`, {
      headers: { authorization: `Bearer ${masterKey}` },
    });
    return { status: response.status, body: (await response.json()) as { by: string; data: Group[]; error?: { param: string } } };
  };
  const expectGroup = (group: Group | undefined, matching: UsageTable[]) => {
    expect(group?.requests).toBe(matching.length);
    expect(group?.error_requests).toBe(matching.filter((row) => row.status >= 400).length);
    const values = matching.map((row) => row.latency_ms);
    for (const p of [50, 95, 99] as const) {
      const exact = exactPercentile(values, p / 100);
      expect(Math.abs((group?.[`latency_p${p}_ms`] ?? Number.NaN) - exact)).toBeLessThanOrEqual(exact * relativePrecision + 1e-6);
    }
    expect(group?.average_latency_ms).toBeCloseTo(values.reduce((sum, value) => sum + value, 0) / values.length, 2);
  };

  it('answers percentiles per provider and per provider and model within the documented precision', async () => {
    const range = `start=${base}&end=${base + day}`;
    const byProvider = await latency(range);
    expect(byProvider.status).toBe(200);
    expect(byProvider.body.by).toBe('provider');
    expect(byProvider.body.data.map((group) => group.provider)).toEqual(['openai', 'anthropic']);
    expect(byProvider.body.data.every((group) => group.model === null)).toBe(true);
    for (const provider of ['openai', 'anthropic']) {
      expectGroup(
        byProvider.body.data.find((group) => group.provider === provider),
        rows.filter((row) => row.provider === provider),
      );
    }
    const byModel = await latency(`${range}&by=model`);
    expect(byModel.body.data).toHaveLength(3);
    for (const model of ['gpt-4o', 'gpt-4o-mini', 'claude-haiku']) {
      expectGroup(
        byModel.body.data.find((group) => group.model === model),
        rows.filter((row) => row.model === model),
      );
    }
    const filtered = await latency(`${range}&by=model&provider=anthropic`);
    expect(filtered.body.data.map((group) => group.model)).toEqual(['claude-haiku']);
  });

  it('counts real calls, and refuses a bad grouping', async () => {
    const started = Date.now();
    for (const model of ['sim-slow-60', 'sim-slow-60', 'sim-slow-250', 'gpt-4o-mini']) {
      const response = await fetch(`${running.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'latency' }] }),
      });
      expect(response.status).toBe(200);
    }
    const recent = await latency(`start=${started - 1}&by=model`);
    expect(recent.body.data.map((group) => [group.model, group.requests])).toEqual([
      ['sim-slow-60', 2],
      ['gpt-4o-mini', 1],
      ['sim-slow-250', 1],
    ]);
    expect(recent.body.data.find((group) => group.model === 'sim-slow-250')?.latency_p50_ms).toBeGreaterThanOrEqual(250);
    expect(recent.body.data.find((group) => group.model === 'sim-slow-60')?.latency_p95_ms).toBeGreaterThanOrEqual(60);
    expect((await latency(`start=${started - 1}&start=x&by=model&by=provider`)).body.by).toBe('model');
    const bad = await latency('by=planet');
    expect(bad.status).toBe(400);
    expect(bad.body.error?.param).toBe('by');
  });
});
