/**
 * GET /admin/api/v1/usage/latency?by=provider|model: latency percentiles (p50, p95, p99) and error rate per
 * provider or per provider and model over [start, end), from the usage records of every replica, for the
 * dashboard's Providers page. Counted in the database with the histogram of latency-histogram.ts (same
 * precision as the time series); at most one row per (group, histogram bucket) is read.
 */
import { sql } from 'kysely';
import { z } from 'zod';
import { GatewayError, invalidRequest } from '../core/errors.ts';
import type { GatewayRequest, JsonReply, Route } from '../http/types.ts';
import type { Storage } from '../storage/database.ts';
import { adminPrefix, flatQuery } from './admin-routes.ts';
import { type LatencyCell, latencyBucketSql, percentile, relativePrecision } from './latency-histogram.ts';
import { documentOperations } from './openapi-registry.ts';
import { filterUsage } from './queries.ts';
import { parseTimeseriesRequest, type TimeseriesRequest } from './usage-timeseries.ts';

const groupings = ['provider', 'model'] as const;
type Grouping = (typeof groupings)[number];

const precision = `within ${(relativePrecision * 100).toFixed(2)} % of the exact nearest-rank value (1 ms below 1 ms)`;

export const latencyGroupSchema = z.object({
  provider: z.string().nullable(),
  model: z.string().nullable().describe('by=model: the model as sent upstream; by=provider: null'),
  requests: z.number().int(),
  error_requests: z.number().int(),
  error_rate: z.number(),
  average_latency_ms: z.number(),
  latency_p50_ms: z.number().describe(precision),
  latency_p95_ms: z.number().describe(precision),
  latency_p99_ms: z.number().describe(precision),
});

export const latencyReportSchema = z.object({
  by: z.enum(groupings),
  start: z.string(),
  end: z.string(),
  data: z.array(latencyGroupSchema).describe('Most requests first'),
});

documentOperations({
  method: 'get',
  path: `${adminPrefix}/usage/latency`,
  tag: 'Admin',
  summary: 'Latency percentiles (p50/p95/p99), mean and error rate per provider or per provider and model',
  description: `Calls with start <= created_at < end (default: the last 24 hours). Percentiles ${precision}.`,
  parameters: [
    { name: 'by', in: 'query', description: 'provider (default) or model' },
    { name: 'start', in: 'query', description: 'ISO 8601 or epoch ms, inclusive; default end - 24 h' },
    { name: 'end', in: 'query', description: 'ISO 8601 or epoch ms, exclusive; default now' },
    { name: 'provider', in: 'query' },
    { name: 'model', in: 'query' },
    { name: 'endpoint', in: 'query' },
    { name: 'key_id', in: 'query' },
  ],
  response: latencyReportSchema,
  errors: [400, 401, 403],
});

interface Group {
  provider: string | null;
  model: string | null;
  requests: number;
  errors: number;
  latencySum: number;
  cells: LatencyCell[];
}

export function createUsageLatency(storage: Storage) {
  const db = storage.db;
  return async function latency(request: TimeseriesRequest, by: Grouping): Promise<z.infer<typeof latencyReportSchema>> {
    const inner = filterUsage(
      db.selectFrom('usage').where('created_at', '>=', request.start).where('created_at', '<', request.end),
      request.filters,
    ).select([
      'provider',
      by === 'model' ? 'model' : sql`null`.as('model'),
      'status',
      'latency_ms',
      latencyBucketSql('latency_ms').as('latency_bucket'),
    ]);
    const rows = await db
      .selectFrom(inner.as('calls'))
      .select((eb) => [
        'calls.provider',
        'calls.model',
        'calls.latency_bucket',
        eb.fn.countAll().as('requests'),
        eb.fn.sum(eb.case().when('calls.status', '>=', 400).then(1).else(0).end()).as('error_requests'),
        eb.fn.sum('calls.latency_ms').as('latency_sum'),
        eb.fn.min('calls.latency_ms').as('latency_min'),
        eb.fn.max('calls.latency_ms').as('latency_max'),
      ])
      .groupBy(['calls.provider', 'calls.model', 'calls.latency_bucket'])
      .execute();
    const groups = new Map<string, Group>();
    for (const row of rows) {
      const provider = row.provider === null ? null : String(row.provider);
      const model = row.model === null || row.model === undefined ? null : String(row.model);
      const name = JSON.stringify([provider, model]);
      let group = groups.get(name);
      if (!group) {
        group = { provider, model, requests: 0, errors: 0, latencySum: 0, cells: [] };
        groups.set(name, group);
      }
      const count = Number(row.requests);
      group.requests += count;
      group.errors += Number(row.error_requests ?? 0);
      group.latencySum += Number(row.latency_sum ?? 0);
      group.cells.push({ bucket: Number(row.latency_bucket), count, min: Number(row.latency_min), max: Number(row.latency_max) });
    }
    const data = [...groups.values()]
      .map((group) => ({
        provider: group.provider,
        model: group.model,
        requests: group.requests,
        error_requests: group.errors,
        error_rate: group.requests === 0 ? 0 : group.errors / group.requests,
        average_latency_ms: group.requests === 0 ? 0 : Math.round((group.latencySum / group.requests) * 1000) / 1000,
        latency_p50_ms: percentile(group.cells, 0.5),
        latency_p95_ms: percentile(group.cells, 0.95),
        latency_p99_ms: percentile(group.cells, 0.99),
      }))
      .sort(
        (left, right) =>
          right.requests - left.requests || `${left.provider}/${left.model}`.localeCompare(`${right.provider}/${right.model}`),
      );
    return { by, start: new Date(request.start).toISOString(), end: new Date(request.end).toISOString(), data };
  };
}

export function createUsageLatencyRoute(latency: ReturnType<typeof createUsageLatency>): Route {
  return {
    method: 'GET',
    path: `${adminPrefix}/usage/latency`,
    authenticated: true,
    handler: async (request: GatewayRequest): Promise<JsonReply> => {
      const query = flatQuery(request);
      const by = query.by === undefined || query.by === '' ? 'provider' : query.by;
      if (!(groupings as readonly string[]).includes(by)) throw invalidRequest("'by' must be provider or model", 'by', 'invalid_value');
      const parsed = parseTimeseriesRequest({ ...query, bucket: 'day' });
      try {
        return { kind: 'json', status: 200, body: await latency(parsed, by as Grouping) };
      } catch (error) {
        throw new GatewayError('The records database is unavailable', { status: 503, code: 'storage_unavailable', cause: error });
      }
    },
  };
}
