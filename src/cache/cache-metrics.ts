/**
 * What the response cache counts, in two forms: this process's counters for the admin overview, and
 * Prometheus counters (registered at /metrics by the metrics extension). Every label value comes from a
 * fixed list (the endpoint, the result, the operation), so the number of series is bounded:
 * - modelgate_cache_requests_total{endpoint,result}: lookups by result, `hit_exact`, `hit_semantic`,
 *   `miss` or `bypass` (the request skipped the lookup: Cache-Control, X-Cache-Type);
 * - modelgate_cache_stores_total{endpoint}: answers written to the store;
 * - modelgate_cache_evictions_total: entries the embedded store dropped to stay within its caps (Redis
 *   evicts by its own maxmemory policy and reports it in INFO stats, `evicted_keys`);
 * - modelgate_cache_errors_total{operation}: `lookup`, `store`, `embed`, `vector` failures (the call went on).
 */
import { Counter } from 'prom-client';
import type { Endpoint } from '../core/outcome.ts';

export interface CacheCounters {
  hits: number;
  misses: number;
  bypasses: number;
  stored: number;
  errors: number;
}

export type CacheLookupResult = 'hit_exact' | 'hit_semantic' | 'miss' | 'bypass';
export type CacheErrorOperation = 'lookup' | 'store' | 'embed' | 'vector';

export interface CacheMetrics {
  /** This process's totals (admin overview). */
  counters: CacheCounters;
  lookup(endpoint: Endpoint, result: CacheLookupResult): void;
  stored(endpoint: Endpoint): void;
  evicted(): void;
  error(operation: CacheErrorOperation): void;
  all(): Counter<string>[];
}

export function createCacheMetrics(): CacheMetrics {
  const counters: CacheCounters = { hits: 0, misses: 0, bypasses: 0, stored: 0, errors: 0 };
  // Lookups are counted here per call (one Map step) and handed to prom-client when /metrics is read:
  // inc() with labels validates and hashes them on every call, on the path of every cached answer.
  const pendingLookups = new Map<string, { endpoint: Endpoint; result: CacheLookupResult; count: number }>();
  const requests = new Counter({
    name: 'modelgate_cache_requests_total',
    help: 'Response cache lookups by endpoint and result (hit_exact, hit_semantic, miss, bypass)',
    labelNames: ['endpoint', 'result'] as const,
    registers: [],
    collect() {
      for (const pending of pendingLookups.values()) {
        if (pending.count === 0) continue;
        this.inc({ endpoint: pending.endpoint, result: pending.result }, pending.count);
        pending.count = 0;
      }
    },
  });
  // Stores likewise: one per miss.
  const pendingStores = new Map<Endpoint, { count: number }>();
  const stores = new Counter({
    name: 'modelgate_cache_stores_total',
    help: 'Answers written to the response cache, by endpoint',
    labelNames: ['endpoint'] as const,
    registers: [],
    collect() {
      for (const [endpoint, pending] of pendingStores) {
        if (pending.count === 0) continue;
        this.inc({ endpoint }, pending.count);
        pending.count = 0;
      }
    },
  });
  const evictions = new Counter({
    name: 'modelgate_cache_evictions_total',
    help: 'Entries the embedded response cache store dropped to stay within RESPONSE_CACHE_MAX_ENTRIES / RESPONSE_CACHE_MAX_BYTES',
    registers: [],
  });
  const errors = new Counter({
    name: 'modelgate_cache_errors_total',
    help: 'Response cache failures that the call went on without, by operation (lookup, store, embed, vector)',
    labelNames: ['operation'] as const,
    registers: [],
  });
  return {
    counters,
    lookup(endpoint, result) {
      if (result === 'miss') counters.misses++;
      else if (result === 'bypass') counters.bypasses++;
      else counters.hits++;
      const name = `${endpoint} ${result}`;
      const pending = pendingLookups.get(name);
      if (pending) pending.count++;
      else pendingLookups.set(name, { endpoint, result, count: 1 });
    },
    stored(endpoint) {
      counters.stored++;
      const pending = pendingStores.get(endpoint);
      if (pending) pending.count++;
      else pendingStores.set(endpoint, { count: 1 });
    },
    evicted() {
      evictions.inc();
    },
    error(operation) {
      counters.errors++;
      errors.inc({ operation });
    },
    all: () => [requests, stores, evictions, errors] as Counter<string>[],
  };
}
