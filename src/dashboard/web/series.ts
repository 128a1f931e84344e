/**
 * Usage over time for the Overview: GET /admin/api/v1/usage/timeseries (hourly or daily buckets, latency
 * percentiles, cache hits, and the previous period) when the gateway has it, else built from
 * /usage/daily (daily buckets, no percentiles).
 */
import { type Api, ApiError } from './api.ts';
import { bucketOf, dayQuery, previousRange, type TimeRange } from './range.ts';

export interface SeriesPoint {
  t: number;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cost_usd: number;
  error_requests: number;
  error_rate: number | null;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  cache_hits: number | null;
  saved_cost_usd: number | null;
}

export interface SeriesTotals extends Omit<SeriesPoint, 't'> {
  cache_hit_rate: number | null;
}

export interface UsageSeries {
  bucket: 'hour' | 'day';
  source: 'timeseries' | 'daily';
  points: SeriesPoint[];
  totals: SeriesTotals;
  previous: { points: SeriesPoint[]; totals: SeriesTotals };
}

export interface SeriesFilters {
  model?: string;
  provider?: string;
  key_id?: string;
}

interface DailyRow {
  period: string;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cost_usd: number;
  error_requests: number;
}

const day = 86_400_000;

function totalsOf(points: SeriesPoint[]): SeriesTotals {
  const sum = (pick: (point: SeriesPoint) => number | null) => points.reduce((total, point) => total + (pick(point) ?? 0), 0);
  const requests = sum((point) => point.requests);
  const errors = sum((point) => point.error_requests);
  return {
    requests,
    input_tokens: sum((point) => point.input_tokens),
    output_tokens: sum((point) => point.output_tokens),
    total_tokens: sum((point) => point.total_tokens),
    cost_usd: sum((point) => point.cost_usd),
    error_requests: errors,
    error_rate: requests > 0 ? errors / requests : null,
    latency_p50_ms: null,
    latency_p95_ms: null,
    cache_hits: null,
    saved_cost_usd: null,
    cache_hit_rate: null,
  };
}

async function fromDaily(api: Api, range: TimeRange, filters: SeriesFilters): Promise<{ points: SeriesPoint[]; totals: SeriesTotals }> {
  const answer = await api.get<{ data: DailyRow[] }>('/usage/daily', { ...dayQuery(range), ...filters });
  const byDay = new Map(answer.data.map((row) => [row.period, row]));
  const points: SeriesPoint[] = [];
  for (let t = Math.floor(range.start / day) * day; t < range.end; t += day) {
    const row = byDay.get(new Date(t).toISOString().slice(0, 10));
    const requests = row?.requests ?? 0;
    const errors = row?.error_requests ?? 0;
    points.push({
      t,
      requests,
      input_tokens: row?.input_tokens ?? 0,
      output_tokens: row?.output_tokens ?? 0,
      total_tokens: row?.total_tokens ?? 0,
      cost_usd: row?.cost_usd ?? 0,
      error_requests: errors,
      error_rate: requests > 0 ? errors / requests : null,
      latency_p50_ms: null,
      latency_p95_ms: null,
      cache_hits: null,
      saved_cost_usd: null,
    });
  }
  return { points, totals: totalsOf(points) };
}

/** A bucket without requests has no latency, error rate or hit rate (the API counts them as 0): a gap, not a 0. */
function withoutEmptyRates<T extends Omit<SeriesPoint, 't'> & { cache_hit_rate?: number | null }>(point: T): T {
  if (point.requests > 0) return point;
  return {
    ...point,
    error_rate: null,
    latency_p50_ms: null,
    latency_p95_ms: null,
    ...('cache_hit_rate' in point ? { cache_hit_rate: null } : {}),
  };
}

export async function loadSeries(api: Api, range: TimeRange, filters: SeriesFilters = {}): Promise<UsageSeries> {
  const bucket = bucketOf(range);
  try {
    const answer = await api.get<Omit<UsageSeries, 'source'>>('/usage/timeseries', {
      start: new Date(range.start).toISOString(),
      end: new Date(range.end).toISOString(),
      bucket,
      ...filters,
    });
    return {
      ...answer,
      source: 'timeseries',
      points: answer.points.map(withoutEmptyRates),
      totals: withoutEmptyRates(answer.totals),
      previous: { points: answer.previous.points.map(withoutEmptyRates), totals: withoutEmptyRates(answer.previous.totals) },
    };
  } catch (error) {
    // 404: a gateway without the endpoint; anything else is a real failure.
    if (!(error instanceof ApiError && error.status === 404)) throw error;
  }
  const [current, previous] = await Promise.all([fromDaily(api, range, filters), fromDaily(api, previousRange(range), filters)]);
  return { bucket: 'day', source: 'daily', points: current.points, totals: current.totals, previous };
}
