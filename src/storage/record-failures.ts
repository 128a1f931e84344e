/**
 * Counts records that could not be made whole, so no record is lost silently:
 * `modelgate_record_failures_total{record}` (`usage`, `audit`: the row was stored in a minimal form;
 * `listener`: an outcome observer threw). The counter is on `gateway.metrics`, shown at /metrics.
 */
import { Counter } from 'prom-client';

export type RecordKind = 'usage' | 'audit' | 'listener';

export interface RecordFailures {
  counter: Counter<'record'>;
  count(record: RecordKind): void;
}

export function createRecordFailures(): RecordFailures {
  const counter = new Counter({
    name: 'modelgate_record_failures_total',
    help: 'Records that could not be built whole (usage, audit: stored in a minimal form with the error; listener: an observer failed)',
    labelNames: ['record'] as const,
    registers: [],
  });
  for (const record of ['usage', 'audit', 'listener'] as const) counter.inc({ record }, 0);
  return { counter, count: (record) => counter.inc({ record }) };
}
