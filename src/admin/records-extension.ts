/**
 * Storage, usage records, audit log and admin API, in start order. The storage extension comes
 * first so that later extensions (the Responses store) find `gateway.storage`. The admin API flushes
 * this process's pending records before it reads, so it shows the same totals as the records.
 */
import type { Logger } from 'pino';
import type { Gateway, GatewayExtension } from '../app.ts';
import { createAuditRecorder } from '../audit/audit-recorder.ts';
import { configuredSecrets } from '../security/secret-scrubber.ts';
import type { BatchWriter } from '../storage/batch-writer.ts';
import { createJournalMetrics, type JournalMetrics } from '../storage/journal-metrics.ts';
import { createStorageExtension } from '../storage/storage-extension.ts';
import { createPricingTable } from '../usage/pricing.ts';
import { createUsageRecorder } from '../usage/usage-recorder.ts';
import { createAdminRoutes } from './admin-routes.ts';
import { createOpenApiRoutes } from './openapi.ts';
import { createAdminQueries } from './queries.ts';
import { createUsageLatency, createUsageLatencyRoute } from './usage-latency.ts';
import { createUsageTimeseries } from './usage-timeseries.ts';
import { createUsageTimeseriesRoute } from './usage-timeseries-route.ts';

export interface RecordsOptions {
  /** Batch writer tuning (tests use small values). */
  maxBatch?: number;
  maxQueue?: number;
  flushIntervalMs?: number;
}

function requireStorage(gateway: Gateway) {
  if (!gateway.storage) throw new Error('the storage extension must run before usage, audit and admin');
  return gateway.storage;
}

export function createRecordsExtensions(logger: Logger, options: RecordsOptions = {}): GatewayExtension[] {
  // Per gateway, so one extension list can serve several gateways (tests restart on the same list).
  const writersOf = new WeakMap<Gateway, BatchWriter<unknown>[]>();
  const writers = (gateway: Gateway): BatchWriter<unknown>[] => {
    let list = writersOf.get(gateway);
    if (!list) {
      list = [];
      writersOf.set(gateway, list);
    }
    return list;
  };
  const tuning = {
    ...(options.maxBatch === undefined ? {} : { maxBatch: options.maxBatch }),
    ...(options.maxQueue === undefined ? {} : { maxQueue: options.maxQueue }),
    ...(options.flushIntervalMs === undefined ? {} : { flushIntervalMs: options.flushIntervalMs }),
  };
  const onSpill = (kind: string) => (file: string) =>
    logger.warn({ file }, `${kind} write buffer is full: records spill to disk and are written when the database catches up`);
  const onError = (kind: string) => (error: unknown) =>
    logger.error({ err: error }, `${kind} records could not be written; they are kept and retried`);
  const onRecordFailure = (gateway: Gateway, kind: 'usage' | 'audit') => (error: unknown) => {
    gateway.recordFailures.count(kind);
    logger.error({ err: error }, `a ${kind} record could not be built whole; it is stored in a minimal form`);
  };
  const journalMetricsOf = new WeakMap<Gateway, JournalMetrics>();
  const journalOptions = (gateway: Gateway, kind: 'usage' | 'audit') => {
    let metrics = journalMetricsOf.get(gateway);
    if (!metrics) {
      metrics = createJournalMetrics();
      journalMetricsOf.set(gateway, metrics);
      gateway.metrics.push(metrics.counter);
    }
    const counted = metrics;
    let lastErrorLog = 0;
    return {
      journalMaxBytes: gateway.config.storage.journalMaxBytes,
      onJournalFull: (first: boolean) => {
        counted.count(kind, 'full');
        if (first) {
          logger.warn(
            { maxBytes: gateway.config.storage.journalMaxBytes },
            `${kind} journal is at STORAGE_JOURNAL_MAX_BYTES: records go to the spill file until the database catches up`,
          );
        }
      },
      onJournalError: (error: unknown) => {
        counted.count(kind, 'error');
        // At most one line a minute: a failing disk fails every append.
        if (Date.now() - lastErrorLog > 60_000) {
          lastErrorLog = Date.now();
          logger.error({ err: error }, `${kind} journal append failed: records wait in memory only until written`);
        }
      },
    };
  };

  const usage: GatewayExtension = (gateway) => {
    if (!gateway.config.usage.enabled) return;
    const recorder = createUsageRecorder({
      bus: gateway.bus,
      storage: requireStorage(gateway),
      pricing: createPricingTable(gateway.config.pricing),
      spillDir: gateway.config.storage.spillDir,
      owner: (keyId) => gateway.keyOwner?.(keyId),
      onError: onError('usage'),
      onSpill: onSpill('usage'),
      onRecordFailure: onRecordFailure(gateway, 'usage'),
      ...journalOptions(gateway, 'usage'),
      ...tuning,
    });
    writers(gateway).push(recorder.writer as BatchWriter<unknown>);
    gateway.onClose(() => recorder.close());
  };

  const audit: GatewayExtension = (gateway) => {
    const { logging } = gateway.config;
    if (!logging.enabled) return;
    const recorder = createAuditRecorder({
      bus: gateway.bus,
      storage: requireStorage(gateway),
      settings: logging,
      secrets: configuredSecrets(gateway.config),
      spillDir: gateway.config.storage.spillDir,
      owner: (keyId) => gateway.keyOwner?.(keyId),
      onError: onError('audit'),
      onSpill: onSpill('audit'),
      onRecordFailure: onRecordFailure(gateway, 'audit'),
      ...journalOptions(gateway, 'audit'),
      ...tuning,
    });
    writers(gateway).push(recorder.writer as BatchWriter<unknown>);
    gateway.onClose(() => recorder.close());
  };

  const admin: GatewayExtension = (gateway) => {
    const queries = createAdminQueries(requireStorage(gateway));
    const flush = async () => {
      await Promise.all(writers(gateway).map((writer) => writer.flush().catch(() => {})));
    };
    const flushed: typeof queries = Object.fromEntries(
      Object.entries(queries).map(([name, query]) => [
        name,
        async (...parameters: unknown[]) => {
          await flush();
          return (query as (...values: unknown[]) => Promise<unknown>)(...parameters);
        },
      ]),
    ) as typeof queries;
    gateway.records = flushed;
    const timeseries = createUsageTimeseries(requireStorage(gateway));
    const latency = createUsageLatency(requireStorage(gateway));
    gateway.addRoutes([
      ...createAdminRoutes(flushed, gateway.registry),
      createUsageTimeseriesRoute(async (request) => {
        await flush();
        return timeseries(request);
      }),
      createUsageLatencyRoute(async (request, by) => {
        await flush();
        return latency(request, by);
      }),
      ...createOpenApiRoutes(),
    ]);
  };

  return [createStorageExtension(), usage, audit, admin];
}
