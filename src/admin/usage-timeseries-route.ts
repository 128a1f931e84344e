/** GET /admin/api/v1/usage/timeseries: the schema of its answer (zod, in /openapi.json) and its handler. */
import { z } from 'zod';
import { GatewayError } from '../core/errors.ts';
import type { GatewayRequest, JsonReply, Route } from '../http/types.ts';
import { adminPrefix, flatQuery } from './admin-routes.ts';
import { relativePrecision } from './latency-histogram.ts';
import { documentOperations } from './openapi-registry.ts';
import { maxTimeseriesPoints, parseTimeseriesRequest, type TimeseriesRequest, type UsageTimeseries } from './usage-timeseries.ts';

const counts = {
  requests: z.number().int(),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  total_tokens: z.number().int(),
  cost_usd: z.number().describe('Sum over priced calls'),
  error_requests: z.number().int().describe('Calls answered with status >= 400'),
  error_rate: z.number().describe('error_requests / requests; 0 without calls'),
  latency_p50_ms: z
    .number()
    .describe(`Median latency (nearest rank), within ${(relativePrecision * 100).toFixed(2)} % or 1 ms; 0 without calls`),
  latency_p95_ms: z
    .number()
    .describe(`95th percentile latency (nearest rank), within ${(relativePrecision * 100).toFixed(2)} % or 1 ms; 0 without calls`),
  cache_hits: z.number().int(),
  cache_misses: z.number().int(),
  saved_cost_usd: z.number().describe('What the cache hits would have cost'),
};

export const timeseriesPointSchema = z.object({ t: z.number().int().describe('Start of the UTC hour or day, epoch ms'), ...counts });
export const timeseriesTotalsSchema = z.object({
  ...counts,
  cache_hit_rate: z.number().describe('cache_hits / (cache_hits + cache_misses); 0 without lookups'),
});

const periodSchema = z.object({
  start: z.string().describe('ISO 8601, inclusive'),
  end: z.string().describe('ISO 8601, exclusive'),
  points: z.array(timeseriesPointSchema),
  totals: timeseriesTotalsSchema,
});

export const timeseriesSchema = z.object({
  bucket: z.enum(['hour', 'day']),
  start: z.string().describe('ISO 8601, inclusive'),
  end: z.string().describe('ISO 8601, exclusive'),
  points: z.array(timeseriesPointSchema).describe('One per UTC bucket the range touches, oldest first; empty buckets hold zeros'),
  totals: timeseriesTotalsSchema,
  previous: periodSchema.describe('The period of the same length just before start'),
});

documentOperations({
  method: 'get',
  path: `${adminPrefix}/usage/timeseries`,
  tag: 'Admin',
  summary: 'Usage per UTC hour or day: requests, tokens, cost, errors, p50/p95 latency, cache hits; with the previous period',
  description:
    'Calls with start <= created_at < end. Buckets are UTC hours or UTC days; the first and last may be partial. ' +
    `At most ${maxTimeseriesPoints} points (400 beyond). Latency percentiles come from a log-scale histogram ` +
    `counted in the database: within ${(relativePrecision * 100).toFixed(2)} % of the exact nearest-rank value (1 ms below 1 ms).`,
  parameters: [
    { name: 'start', in: 'query', description: 'ISO 8601 or epoch ms, inclusive; default end - 24 h' },
    { name: 'end', in: 'query', description: 'ISO 8601 or epoch ms, exclusive; default now' },
    { name: 'bucket', in: 'query', description: 'hour or day; default hour for ranges up to 48 h, else day' },
    { name: 'model', in: 'query', description: 'Model as sent upstream or as requested' },
    { name: 'provider', in: 'query' },
    { name: 'endpoint', in: 'query' },
    { name: 'key_id', in: 'query' },
    { name: 'user', in: 'query', description: "Managed key's owner user" },
    { name: 'team', in: 'query', description: "Managed key's owner team" },
    { name: 'tag', in: 'query', description: "One of the managed key's tags" },
    { name: 'status', in: 'query' },
  ],
  response: timeseriesSchema,
  errors: [400, 401, 403],
});

export function createUsageTimeseriesRoute(
  timeseries: UsageTimeseries | ((request: TimeseriesRequest) => ReturnType<UsageTimeseries>),
): Route {
  return {
    method: 'GET',
    path: `${adminPrefix}/usage/timeseries`,
    authenticated: true,
    handler: async (request: GatewayRequest): Promise<JsonReply> => {
      const parsed = parseTimeseriesRequest(flatQuery(request));
      try {
        return { kind: 'json', status: 200, body: await timeseries(parsed) };
      } catch (error) {
        throw new GatewayError('The records database is unavailable', { status: 503, code: 'storage_unavailable', cause: error });
      }
    },
  };
}
