/**
 * `modelgate_records_journal_total{record,event}`: records the write-ahead journal could not take.
 * `full`: the journal was at STORAGE_JOURNAL_MAX_BYTES, the record went to the spill file (as durable);
 * `error`: a journal append failed (disk error), the record waited in memory only. On `gateway.metrics`.
 */
import { Counter } from 'prom-client';

export type JournalEvent = 'full' | 'error';

export interface JournalMetrics {
  counter: Counter<'record' | 'event'>;
  count(record: 'usage' | 'audit', event: JournalEvent): void;
}

export function createJournalMetrics(): JournalMetrics {
  const counter = new Counter({
    name: 'modelgate_records_journal_total',
    help: 'Records the write-ahead journal could not take (full: sent to the spill file at STORAGE_JOURNAL_MAX_BYTES; error: journal write failed, kept in memory only)',
    labelNames: ['record', 'event'] as const,
    registers: [],
  });
  for (const record of ['usage', 'audit'] as const) for (const event of ['full', 'error'] as const) counter.inc({ record, event }, 0);
  return { counter, count: (record, event) => counter.inc({ record, event }) };
}
