/**
 * GET /admin/api/v1/usage/timeseries on SQLite and PostgreSQL. Rows seeded directly over four past UTC days
 * (time spread, known latencies, errors, cache hits), plus real calls through the gateway and the OpenAI
 * simulator (sim-slow-<ms> for real latencies). Cross-checks: sum of points == totals == /usage/summary for
 * the same range; p50/p95 within the documented precision of the exact nearest-rank value; filters;
 * the previous period; empty buckets as zeros; 400s in the OpenAI shape.
 */
import { describe, expect, it } from 'vitest';
import { relativePrecision } from '../src/admin/latency-histogram.ts';
import type { UsageTable } from '../src/storage/database.ts';
import { createRandom } from './helpers/seeded-random.ts';
import { useSeededUsageGateway } from './helpers/seeded-usage-gateway.ts';

const masterKey = 'timeseries-master-key';
const hour = 3_600_000;
const day = 24 * hour;
/** 2026-11-20T00:00:00Z: the first seeded day (UTC midnight). */
const base = Date.UTC(2026, 10, 20);

type Point = Record<string, number>;
type Series = {
  bucket: string;
  start: string;
  end: string;
  points: Point[];
  totals: Point;
  previous: { start: string; end: string; points: Point[]; totals: Point };
};

/** Nearest-rank percentile: the ceil(p·n)-th smallest value. */
function exactPercentile(values: number[], p: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1] ?? 0;
}

function expectWithinPrecision(estimate: number, exact: number) {
  expect(Math.abs(estimate - exact)).toBeLessThanOrEqual(Math.max(exact * relativePrecision, 1) + 1e-6);
}

const summed = ['requests', 'input_tokens', 'output_tokens', 'total_tokens', 'error_requests', 'cache_hits', 'cache_misses'] as const;

function seedRows(): UsageTable[] {
  const random = createRandom(1402);
  const rows: UsageTable[] = [];
  // Four days; hour 5 of every day stays empty so that empty buckets show.
  for (let index = 0; index < 1200; index++) {
    let created = base + Math.floor(random() * 4 * day);
    if (Math.floor((created % day) / hour) === 5) created += hour;
    const latency = Math.round(0.3 * 60_000 ** random() * 1000) / 1000; // log-uniform, 0.3 ms .. 18 s
    const hit = random() < 0.2;
    const status = random() < 0.1 ? (random() < 0.5 ? 429 : 502) : 200;
    const model = random() < 0.5 ? 'gpt-4o-mini' : 'gpt-4o';
    const input = 10 + Math.floor(random() * 500);
    const output = status === 200 ? Math.floor(random() * 300) : 0;
    const cost = hit ? 0 : (input * 0.15 + output * 0.6) / 1e6;
    rows.push({
      id: `seed-${index}`,
      request_id: `req-seed-${index}`,
      created_at: created,
      day: new Date(created).toISOString().slice(0, 10),
      endpoint: 'chat.completions',
      provider: random() < 0.7 ? 'openai' : 'backup',
      provider_type: 'openai',
      model,
      requested_model: model,
      stream: 0,
      status,
      error_code: status === 200 ? null : 'upstream_error',
      input_tokens: input,
      output_tokens: output,
      total_tokens: input + output,
      cached_tokens: 0,
      reasoning_tokens: 0,
      cache_write_tokens: 0,
      cost_usd: cost,
      priced: 1,
      key_id: random() < 0.3 ? 'key_seeded_a' : 'key_seeded_b',
      key_user: null,
      key_team: random() < 0.5 ? 'search' : null,
      key_tags: null,
      latency_ms: latency,
      first_byte_ms: null,
      cache_status: hit ? 'hit' : random() < 0.8 ? 'miss' : 'none',
      saved_cost_usd: hit ? (input * 0.15 + output * 0.6) / 1e6 : null,
    });
  }
  return rows;
}

describe.each(['sqlite', 'postgresql'] as const)('usage time series on %s', (backendName) => {
  const rows = seedRows();
  const running = useSeededUsageGateway(backendName, {
    apiKey: 'sk-timeseries',
    models: ['gpt-4o-mini', 'sim-slow-40', 'sim-slow-150'],
    masterKey,
    rows,
  });

  const admin = async (path: string) => {
    const response = await fetch(`${running.url}/admin/api/v1${path}`, { headers: { authorization: `Bearer ${masterKey}` } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const series = async (query: string) => {
    const answer = await admin(`/usage/timeseries?${query}`);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body as unknown as Series;
  };
  const inRange = (start: number, end: number) => rows.filter((row) => row.created_at >= start && row.created_at < end);

  /** Points add up to the totals, and the totals agree with the rows the test seeded. */
  const expectTotals = (answer: { points: Point[]; totals: Point }, expected: UsageTable[]) => {
    for (const name of [...summed, 'cost_usd', 'saved_cost_usd']) {
      const sum = answer.points.reduce((total, point) => total + (point[name] ?? 0), 0);
      expect(sum).toBeCloseTo(answer.totals[name] ?? Number.NaN, 9);
    }
    expect(answer.totals.requests).toBe(expected.length);
    expect(answer.totals.input_tokens).toBe(expected.reduce((sum, row) => sum + row.input_tokens, 0));
    expect(answer.totals.output_tokens).toBe(expected.reduce((sum, row) => sum + row.output_tokens, 0));
    expect(answer.totals.error_requests).toBe(expected.filter((row) => row.status >= 400).length);
    expect(answer.totals.cache_hits).toBe(expected.filter((row) => row.cache_status === 'hit').length);
    expect(answer.totals.cost_usd).toBeCloseTo(
      expected.reduce((sum, row) => sum + (row.cost_usd ?? 0), 0),
      9,
    );
    expect(answer.totals.saved_cost_usd).toBeCloseTo(
      expected.reduce((sum, row) => sum + (row.saved_cost_usd ?? 0), 0),
      9,
    );
    const hits = expected.filter((row) => row.cache_status === 'hit').length;
    const misses = expected.filter((row) => row.cache_status === 'miss').length;
    if (hits + misses > 0) expect(answer.totals.cache_hit_rate).toBeCloseTo(hits / (hits + misses), 12);
    if (expected.length > 0) {
      expect(answer.totals.error_rate).toBeCloseTo((answer.totals.error_requests ?? 0) / expected.length, 12);
      const latencies = expected.map((row) => row.latency_ms);
      expectWithinPrecision(answer.totals.latency_p50_ms ?? Number.NaN, exactPercentile(latencies, 0.5));
      expectWithinPrecision(answer.totals.latency_p95_ms ?? Number.NaN, exactPercentile(latencies, 0.95));
    }
  };

  it('answers daily points whose sum is the totals and /usage/summary for the same days', async () => {
    const answer = await series(`start=2026-11-20&end=2026-11-24`);
    expect(answer.bucket).toBe('day');
    expect(answer.start).toBe('2026-11-20T00:00:00.000Z');
    expect(answer.end).toBe('2026-11-24T00:00:00.000Z');
    expect(answer.points.map((point) => point.t)).toEqual([0, 1, 2, 3].map((index) => base + index * day));
    expectTotals(answer, rows);
    const summary = (await admin('/usage/summary?start_date=2026-11-20&end_date=2026-11-23')).body;
    for (const name of ['requests', 'input_tokens', 'output_tokens', 'total_tokens', 'error_requests'] as const) {
      expect(answer.totals[name]).toBe(summary[name]);
    }
    expect(answer.totals.cost_usd).toBeCloseTo(summary.cost_usd as number, 9);
    // Each day's percentiles are within the documented precision of that day's exact values.
    for (const point of answer.points) {
      const latencies = inRange(point.t as number, (point.t as number) + day).map((row) => row.latency_ms);
      expect(point.requests).toBe(latencies.length);
      expectWithinPrecision(point.latency_p50_ms ?? Number.NaN, exactPercentile(latencies, 0.5));
      expectWithinPrecision(point.latency_p95_ms ?? Number.NaN, exactPercentile(latencies, 0.95));
    }
  });

  it('answers hourly points with empty hours as zeros, in UTC, epoch ms and a partial first and last bucket', async () => {
    const start = base + 2 * hour + 30 * 60_000;
    const end = base + 2 * day + 7 * hour + 15 * 60_000;
    const answer = await series(`start=${start}&end=${new Date(end).toISOString()}&bucket=hour`);
    expect(answer.bucket).toBe('hour');
    expect(answer.points).toHaveLength(2 * 24 + 7 - 2 + 1);
    expect(answer.points[0]?.t).toBe(base + 2 * hour);
    expect(answer.points.at(-1)?.t).toBe(base + 2 * day + 7 * hour);
    expectTotals(answer, inRange(start, end));
    const empty = answer.points.filter((point) => new Date(point.t as number).getUTCHours() === 5);
    expect(empty).toHaveLength(3);
    for (const point of empty) {
      expect(point).toMatchObject({
        requests: 0,
        total_tokens: 0,
        cost_usd: 0,
        error_rate: 0,
        latency_p50_ms: 0,
        latency_p95_ms: 0,
        cache_hits: 0,
      });
    }
    for (const point of answer.points.filter((item) => (item.requests ?? 0) > 0)) {
      const latencies = inRange(Math.max(start, point.t as number), Math.min(end, (point.t as number) + hour)).map((row) => row.latency_ms);
      expect(point.requests).toBe(latencies.length);
      expectWithinPrecision(point.latency_p95_ms ?? Number.NaN, exactPercentile(latencies, 0.95));
    }
  });

  it('holds the previous period of the same length just before start', async () => {
    const answer = await series('start=2026-11-22T00:00:00Z&end=2026-11-24T00:00:00Z&bucket=day');
    expect(answer.previous.start).toBe('2026-11-20T00:00:00.000Z');
    expect(answer.previous.end).toBe('2026-11-22T00:00:00.000Z');
    expect(answer.previous.points.map((point) => point.t)).toEqual([base, base + day]);
    expectTotals(answer, inRange(base + 2 * day, base + 4 * day));
    expectTotals(answer.previous, inRange(base, base + 2 * day));
  });

  it('filters by model, provider, key and team, and the filters combine', async () => {
    const range = `start=${base}&end=${base + 4 * day}`;
    expectTotals(
      await series(`${range}&model=gpt-4o`),
      rows.filter((row) => row.model === 'gpt-4o'),
    );
    expectTotals(
      await series(`${range}&provider=backup`),
      rows.filter((row) => row.provider === 'backup'),
    );
    expectTotals(
      await series(`${range}&key_id=key_seeded_a&team=search&model=gpt-4o-mini`),
      rows.filter((row) => row.key_id === 'key_seeded_a' && row.key_team === 'search' && row.model === 'gpt-4o-mini'),
    );
    const none = await series(`${range}&key_id=key_nobody`);
    expect(none.totals.requests).toBe(0);
    expect(none.points).toHaveLength(4);
  });

  it('counts real calls through the gateway, with their recorded latencies', async () => {
    const started = Date.now();
    const call = async (model: string) => {
      const response = await fetch(`${running.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'time series' }] }),
      });
      await response.text();
      return response.status;
    };
    const models = ['gpt-4o-mini', 'gpt-4o-mini', 'sim-slow-40', 'sim-slow-40', 'sim-slow-150', 'sim-server-error'];
    const statuses = [];
    for (const model of models) statuses.push(await call(model));
    expect(statuses.filter((status) => status === 200)).toHaveLength(5);
    const answer = await series(`start=${started - 1}`);
    expect(answer.bucket).toBe('hour');
    expect(answer.totals.requests).toBe(models.length);
    expect(answer.totals.error_requests).toBe(1);
    expect(answer.totals.total_tokens).toBeGreaterThan(0);
    const log = (await admin(`/usage/log?limit=50`)).body.data as { created_at: string; latency_ms: number }[];
    const latencies = log.filter((entry) => Date.parse(entry.created_at) >= started - 1).map((entry) => entry.latency_ms);
    expect(latencies).toHaveLength(models.length);
    expectWithinPrecision(answer.totals.latency_p50_ms ?? Number.NaN, exactPercentile(latencies, 0.5));
    expectWithinPrecision(answer.totals.latency_p95_ms ?? Number.NaN, exactPercentile(latencies, 0.95));
    expect(answer.totals.latency_p95_ms).toBeGreaterThanOrEqual(150);
    // The default range is the last 24 hours, hourly: the calls are in it.
    const recent = await series('');
    expect(recent.bucket).toBe('hour');
    expect(recent.points.length).toBeGreaterThanOrEqual(24);
    expect(recent.points.length).toBeLessThanOrEqual(25);
    expect(recent.totals.requests).toBe(models.length);
  });

  it('refuses bad ranges and buckets with 400 in the OpenAI shape', async () => {
    const cases: [string, string][] = [
      ['start=yesterday', 'start'],
      ['end=2026-13-45T99:00:00Z', 'end'],
      ['start=2026-11-22&end=2026-11-21', 'start'],
      ['bucket=week', 'bucket'],
      ['start=2026-01-01&end=2026-03-01&bucket=hour', 'bucket'],
      ['start=2020-01-01&end=2026-01-01', 'bucket'],
      ['start=2026-11-20&end=2026-11-21&status=abc', 'status'],
    ];
    for (const [query, param] of cases) {
      const answer = await admin(`/usage/timeseries?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.body.error, query).toMatchObject({ param, type: 'invalid_request_error' });
    }
    // A repeated parameter counts once (its first value), never a 500.
    const repeated = await admin('/usage/timeseries?start=2026-11-20&start=nonsense&end=2026-11-21&end=x&bucket=day&bucket=hour');
    expect(repeated.status).toBe(200);
    expect(repeated.body).toMatchObject({ bucket: 'day', start: '2026-11-20T00:00:00.000Z', end: '2026-11-21T00:00:00.000Z' });
    // 1,000 points is the most answered.
    expect((await admin(`/usage/timeseries?start=${base}&end=${base + 1000 * hour}&bucket=hour`)).status).toBe(200);
    expect((await admin(`/usage/timeseries?start=${base}&end=${base + 1000 * hour + 1}&bucket=hour`)).status).toBe(400);
  });
});
