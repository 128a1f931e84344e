/**
 * Usage as a time series for charts: requests, tokens, cost, errors, latency percentiles and cache hits per
 * UTC hour or UTC day, over [start, end), with the period of the same length just before it. One grouped
 * query per period (time bucket × latency bucket, latency-histogram.ts), so no row is loaded; empty buckets
 * are filled with zeros so that both series line up.
 */
import { sql } from 'kysely';
import { invalidRequest } from '../core/errors.ts';
import type { Storage } from '../storage/database.ts';
import { parseCallFilters, type UsageFilters } from './admin-filters.ts';
import { type LatencyCell, latencyBucketSql, mergeCells, percentile } from './latency-histogram.ts';
import { parseInstant } from './parse-instant.ts';
import { filterUsage } from './queries.ts';

export const timeseriesBuckets = { hour: 3_600_000, day: 86_400_000 } as const;
export type TimeseriesBucket = keyof typeof timeseriesBuckets;
export const maxTimeseriesPoints = 1000;
const defaultRangeMs = 24 * 3_600_000;
/** Ranges up to this length default to hourly buckets, longer ones to daily. */
const hourlyUpTo = 48 * 3_600_000;

export interface TimeseriesRequest {
  start: number;
  end: number;
  bucket: TimeseriesBucket;
  filters: Omit<UsageFilters, 'range'>;
}

export interface TimeseriesPoint {
  t: number;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cost_usd: number;
  error_requests: number;
  error_rate: number;
  latency_p50_ms: number;
  latency_p95_ms: number;
  cache_hits: number;
  cache_misses: number;
  saved_cost_usd: number;
}

export type TimeseriesTotals = Omit<TimeseriesPoint, 't'> & { cache_hit_rate: number };

export function parseTimeseriesRequest(query: Record<string, string>, now = Date.now()): TimeseriesRequest {
  const given = (name: string) => (query[name] === undefined || query[name] === '' ? undefined : parseInstant(query[name] as string, name));
  const startGiven = given('start');
  const endGiven = given('end');
  const end = endGiven ?? now;
  const start = startGiven ?? end - defaultRangeMs;
  if (start >= end) throw invalidRequest("'start' must be before 'end'", 'start', 'invalid_value');
  const requested = query.bucket === undefined || query.bucket === '' ? undefined : query.bucket;
  if (requested !== undefined && !(requested in timeseriesBuckets)) {
    throw invalidRequest("'bucket' must be hour or day", 'bucket', 'invalid_value');
  }
  const bucket: TimeseriesBucket = (requested as TimeseriesBucket | undefined) ?? (end - start <= hourlyUpTo ? 'hour' : 'day');
  const points = pointCount(start, end, timeseriesBuckets[bucket]);
  if (points > maxTimeseriesPoints) {
    throw invalidRequest(
      `The range holds ${points} ${bucket} buckets; at most ${maxTimeseriesPoints} are answered (use bucket=day or a shorter range)`,
      'bucket',
      'invalid_value',
    );
  }
  return { start, end, bucket, filters: parseCallFilters(query) };
}

/** How many UTC buckets [start, end) touches. */
function pointCount(start: number, end: number, size: number): number {
  return Math.floor((end - 1) / size) - Math.floor(start / size) + 1;
}

/** Starts of the UTC buckets that [start, end) touches. */
function pointTimes(start: number, end: number, size: number): number[] {
  const first = Math.floor(start / size);
  return Array.from({ length: pointCount(start, end, size) }, (_, index) => (first + index) * size);
}

const number = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));

interface Accumulator {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cost_usd: number;
  error_requests: number;
  cache_hits: number;
  cache_misses: number;
  saved_cost_usd: number;
  cells: LatencyCell[];
}

const emptyAccumulator = (): Accumulator => ({
  requests: 0,
  input_tokens: 0,
  output_tokens: 0,
  total_tokens: 0,
  cost_usd: 0,
  error_requests: 0,
  cache_hits: 0,
  cache_misses: 0,
  saved_cost_usd: 0,
  cells: [],
});

function finish(sum: Accumulator): Omit<TimeseriesPoint, 't'> {
  const { cells, ...counts } = sum;
  return {
    ...counts,
    cost_usd: Math.round(sum.cost_usd * 1e9) / 1e9,
    saved_cost_usd: Math.round(sum.saved_cost_usd * 1e9) / 1e9,
    error_rate: sum.requests === 0 ? 0 : sum.error_requests / sum.requests,
    latency_p50_ms: percentile(cells, 0.5),
    latency_p95_ms: percentile(cells, 0.95),
  };
}

export function createUsageTimeseries(storage: Storage) {
  const db = storage.db;

  async function period(start: number, end: number, size: number, filters: TimeseriesRequest['filters']) {
    const inner = filterUsage(db.selectFrom('usage').where('created_at', '>=', start).where('created_at', '<', end), filters).select([
      // Integer division on both dialects; the literal keeps SQLite from binding it as a real.
      sql<number>`cast(created_at / ${sql.lit(size)} as bigint)`.as('slot'),
      latencyBucketSql('latency_ms').as('latency_bucket'),
      'input_tokens',
      'output_tokens',
      'total_tokens',
      'cost_usd',
      'status',
      'cache_status',
      'saved_cost_usd',
      'latency_ms',
    ]);
    const rows = await db
      .selectFrom(inner.as('calls'))
      .select((eb) => [
        'calls.slot',
        'calls.latency_bucket',
        eb.fn.countAll().as('requests'),
        eb.fn.sum('calls.input_tokens').as('input_tokens'),
        eb.fn.sum('calls.output_tokens').as('output_tokens'),
        eb.fn.sum('calls.total_tokens').as('total_tokens'),
        eb.fn.sum('calls.cost_usd').as('cost_usd'),
        eb.fn.sum(eb.case().when('calls.status', '>=', 400).then(1).else(0).end()).as('error_requests'),
        eb.fn.sum(eb.case().when('calls.cache_status', '=', 'hit').then(1).else(0).end()).as('cache_hits'),
        eb.fn.sum(eb.case().when('calls.cache_status', '=', 'miss').then(1).else(0).end()).as('cache_misses'),
        eb.fn.sum('calls.saved_cost_usd').as('saved_cost_usd'),
        eb.fn.min('calls.latency_ms').as('latency_min'),
        eb.fn.max('calls.latency_ms').as('latency_max'),
      ])
      .groupBy(['calls.slot', 'calls.latency_bucket'])
      .execute();
    const slots = new Map<number, Accumulator>();
    for (const row of rows) {
      const t = number(row.slot) * size;
      let sum = slots.get(t);
      if (!sum) {
        sum = emptyAccumulator();
        slots.set(t, sum);
      }
      const requests = number(row.requests);
      sum.requests += requests;
      sum.input_tokens += number(row.input_tokens);
      sum.output_tokens += number(row.output_tokens);
      sum.total_tokens += number(row.total_tokens);
      sum.cost_usd += number(row.cost_usd);
      sum.error_requests += number(row.error_requests);
      sum.cache_hits += number(row.cache_hits);
      sum.cache_misses += number(row.cache_misses);
      sum.saved_cost_usd += number(row.saved_cost_usd);
      sum.cells.push({ bucket: number(row.latency_bucket), count: requests, min: number(row.latency_min), max: number(row.latency_max) });
    }
    const total = emptyAccumulator();
    const points = pointTimes(start, end, size).map((t) => {
      const sum = slots.get(t) ?? emptyAccumulator();
      for (const name of [
        'requests',
        'input_tokens',
        'output_tokens',
        'total_tokens',
        'cost_usd',
        'error_requests',
        'cache_hits',
        'cache_misses',
        'saved_cost_usd',
      ] as const) {
        total[name] += sum[name];
      }
      total.cells.push(...sum.cells);
      return { t, ...finish(sum) };
    });
    total.cells = mergeCells(total.cells);
    const totals = finish(total);
    const lookups = total.cache_hits + total.cache_misses;
    return { points, totals: { ...totals, cache_hit_rate: lookups === 0 ? 0 : total.cache_hits / lookups } };
  }

  return async function timeseries(request: TimeseriesRequest) {
    const size = timeseriesBuckets[request.bucket];
    const length = request.end - request.start;
    const [current, previous] = await Promise.all([
      period(request.start, request.end, size, request.filters),
      period(Math.max(0, request.start - length), request.start, size, request.filters),
    ]);
    return {
      bucket: request.bucket,
      start: new Date(request.start).toISOString(),
      end: new Date(request.end).toISOString(),
      points: current.points,
      totals: current.totals,
      previous: {
        start: new Date(Math.max(0, request.start - length)).toISOString(),
        end: new Date(request.start).toISOString(),
        points: previous.points,
        totals: previous.totals,
      },
    };
  };
}

export type UsageTimeseries = ReturnType<typeof createUsageTimeseries>;
