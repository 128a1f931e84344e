/**
 * Admin API of the response cache, under /admin/api/v1 (master key or a managed key with admin scope):
 * - GET /cache/overview: hits, misses, bypasses, hit rate, saved tokens and cost, a daily series (from
 *   the usage records, so every replica's calls count), and the store's size and this process's counters;
 * - DELETE /cache: purges every entry, or those of one tenant (`key_id`) and/or requested `model`;
 * - DELETE /cache/entries/{key}: purges one entry by its key (the hex SHA-256 the stage computes).
 */
import { z } from 'zod';
import { adminPrefix } from '../admin/admin-routes.ts';
import { documentOperations } from '../admin/openapi-registry.ts';
import { GatewayError, invalidRequest } from '../core/errors.ts';
import type { JsonReply, Route } from '../http/types.ts';
import type { Storage } from '../storage/database.ts';
import type { CacheCounters } from './cache-metrics.ts';
import type { CacheStore } from './cache-store.ts';
import type { SemanticLayer } from './semantic-layer.ts';

const totalsSchema = z.object({
  hits: z.number(),
  misses: z.number(),
  bypasses: z.number(),
  hit_rate: z.number().nullable().describe('hits / (hits + misses); null before any lookup'),
  saved_tokens: z.number(),
  saved_cost_usd: z.number(),
  embedder_requests: z.number().describe("The semantic layer's own embedding calls (usage rows with cache_status embedder)"),
  embedder_cost_usd: z.number().describe('What those embedding calls cost (to set against saved_cost_usd)'),
});

export const cacheOverviewSchema = z.object({
  enabled: z.object({ exact: z.boolean(), semantic: z.boolean() }),
  vector_store: z.enum(['sqlite-vec', 'pgvector']).nullable().describe('Where the semantic layer keeps its vectors; null when it is off'),
  ttl_seconds: z.number(),
  scope: z.enum(['key', 'shared']),
  store: z.object({
    kind: z.enum(['embedded', 'redis']),
    entries: z.number().nullable(),
    bytes: z.number().nullable(),
    max_entries: z.number().nullable(),
    max_bytes: z.number().nullable(),
  }),
  process: z.object({ hits: z.number(), misses: z.number(), bypasses: z.number(), stored: z.number(), errors: z.number() }),
  totals: totalsSchema.nullable().describe('From the usage records over `days` days; null without a database'),
  daily: z.array(totalsSchema.extend({ day: z.string() })),
});

export const cachePurgeSchema = z.object({
  purged: z.number().nullable().describe('Entries removed; null when the store drops all at once (Redis)'),
});

const tag = 'Admin: cache';
documentOperations(
  {
    method: 'get',
    path: `${adminPrefix}/cache/overview`,
    tag,
    summary: 'Response cache overview: hits, misses, hit rate, saved tokens and cost, daily series, store size',
    parameters: [{ name: 'days', in: 'query', description: 'Days of usage records to count (default 30, at most 366)' }],
    response: cacheOverviewSchema,
    errors: [400, 401],
  },
  {
    method: 'delete',
    path: `${adminPrefix}/cache`,
    tag,
    summary: 'Purge the response cache: every entry, or those of one key (key_id) and/or requested model',
    parameters: [
      { name: 'key_id', in: 'query', description: 'Only entries of this tenant (the authenticated key id)' },
      { name: 'model', in: 'query', description: 'Only entries of this requested model' },
    ],
    response: cachePurgeSchema,
    errors: [400, 401],
  },
  {
    method: 'delete',
    path: `${adminPrefix}/cache/entries/{key}`,
    tag,
    summary: 'Purge one response cache entry by its key',
    parameters: [{ name: 'key', in: 'path' }],
    response: z.object({ key: z.string(), deleted: z.literal(true) }),
    errors: [400, 401, 404],
  },
);

export interface CacheAdminOptions {
  store: CacheStore | null;
  semantic: SemanticLayer | null;
  counters: CacheCounters;
  storage: () => Storage | undefined;
  settings: { exact: boolean; semantic: boolean; ttlSeconds: number; scope: 'key' | 'shared' };
}

type Totals = z.infer<typeof totalsSchema>;

function totals(rows: { cache_status: unknown; requests: unknown; tokens: unknown; saved: unknown; cost: unknown }[]): Totals {
  const count = (status: string) => Number(rows.find((row) => row.cache_status === status)?.requests ?? 0);
  const hitRow = rows.find((row) => row.cache_status === 'hit');
  const embedderRow = rows.find((row) => row.cache_status === 'embedder');
  const hits = count('hit');
  const misses = count('miss');
  return {
    hits,
    misses,
    bypasses: count('bypass'),
    hit_rate: hits + misses === 0 ? null : hits / (hits + misses),
    saved_tokens: Number(hitRow?.tokens ?? 0),
    saved_cost_usd: Number(hitRow?.saved ?? 0),
    embedder_requests: count('embedder'),
    embedder_cost_usd: Number(embedderRow?.cost ?? 0),
  };
}

async function usageTotals(storage: Storage, days: number) {
  const startDay = new Date(Date.now() - (days - 1) * 86_400_000).toISOString().slice(0, 10);
  const rows = await storage.db
    .selectFrom('usage')
    .where('day', '>=', startDay)
    .where('cache_status', 'in', ['hit', 'miss', 'bypass', 'embedder'])
    .select((eb) => [
      'day',
      'cache_status',
      eb.fn.countAll().as('requests'),
      eb.fn.sum('total_tokens').as('tokens'),
      eb.fn.sum('saved_cost_usd').as('saved'),
      eb.fn.sum('cost_usd').as('cost'),
    ])
    .groupBy(['day', 'cache_status'])
    .orderBy('day')
    .execute();
  const byDay = new Map<string, typeof rows>();
  for (const row of rows) byDay.set(String(row.day), [...(byDay.get(String(row.day)) ?? []), row]);
  const all = ['hit', 'miss', 'bypass', 'embedder'].map((status) => {
    const matching = rows.filter((row) => row.cache_status === status);
    return {
      cache_status: status,
      requests: matching.reduce((sum, row) => sum + Number(row.requests), 0),
      tokens: matching.reduce((sum, row) => sum + Number(row.tokens ?? 0), 0),
      saved: matching.reduce((sum, row) => sum + Number(row.saved ?? 0), 0),
      cost: matching.reduce((sum, row) => sum + Number(row.cost ?? 0), 0),
    };
  });
  return { totals: totals(all), daily: [...byDay].map(([day, dayRows]) => ({ day, ...totals(dayRows) })) };
}

function json(body: unknown): JsonReply {
  return { kind: 'json', status: 200, body };
}

export function createCacheAdminRoutes(options: CacheAdminOptions): Route[] {
  const requireStore = (): CacheStore => {
    if (!options.store) {
      throw new GatewayError('The response cache is off (RESPONSE_CACHE_SIMPLE_ENABLED, SEMANTIC_CACHE_ENABLED)', {
        status: 400,
        code: 'cache_disabled',
        retryable: false,
      });
    }
    return options.store;
  };
  return [
    {
      method: 'GET',
      path: `${adminPrefix}/cache/overview`,
      authenticated: true,
      handler: async (request) => {
        const days = request.query.days === undefined ? 30 : Number(request.query.days);
        if (!Number.isSafeInteger(days) || days < 1 || days > 366)
          throw invalidRequest('days must be a whole number from 1 to 366', 'days', 'invalid_value');
        const stats = options.store?.stats() ?? { kind: 'embedded' as const, entries: 0, bytes: 0, maxEntries: null, maxBytes: null };
        const storage = options.storage();
        const usage = storage ? await usageTotals(storage, days) : null;
        return json({
          enabled: { exact: options.settings.exact, semantic: options.settings.semantic },
          vector_store: options.semantic?.vectorStore ?? null,
          ttl_seconds: options.settings.ttlSeconds,
          scope: options.settings.scope,
          store: { kind: stats.kind, entries: stats.entries, bytes: stats.bytes, max_entries: stats.maxEntries, max_bytes: stats.maxBytes },
          process: { ...options.counters },
          totals: usage?.totals ?? null,
          daily: usage?.daily ?? [],
        });
      },
    },
    {
      method: 'DELETE',
      path: `${adminPrefix}/cache`,
      authenticated: true,
      handler: async (request) => {
        const store = requireStore();
        const filter: { tenant?: string; requestedModel?: string } = {};
        if (request.query.key_id) filter.tenant = request.query.key_id;
        if (request.query.model) filter.requestedModel = request.query.model;
        try {
          const purged = await store.purge(filter);
          // Vectors of purged entries find no answer any more; a full purge drops them too.
          if (filter.tenant === undefined && filter.requestedModel === undefined) await options.semantic?.purge();
          return json({ purged });
        } catch (error) {
          if (error instanceof GatewayError) throw error;
          throw invalidRequest(error instanceof Error ? error.message : String(error), null, 'cache_purge_unsupported');
        }
      },
    },
    {
      method: 'DELETE',
      path: `${adminPrefix}/cache/entries/:key`,
      authenticated: true,
      handler: async (request) => {
        const store = requireStore();
        const key = request.params.key ?? '';
        if (!/^[0-9a-f]{64}$/.test(key)) throw invalidRequest('key must be the 64 hex digits of a cache key', 'key', 'invalid_value');
        if (!(await store.delete(key)))
          throw new GatewayError('Cache entry not found', { status: 404, code: 'not_found', retryable: false });
        return json({ key, deleted: true });
      },
    },
  ];
}
