/**
 * Writes records in batches, off the request path. `add` never blocks and never drops:
 * - each record is first appended to a write-ahead journal (src/storage/record-journal.ts: its line is
 *   written with the others of the same event-loop turn, in one write(2), before `recordsWritten()` of
 *   src/core/record-barrier.ts resolves; a SIGKILL after that loses nothing), then queued in memory
 *   (bounded by `maxQueue`) and written every `flushIntervalMs`, or at once when a full batch is waiting;
 *   the journal segments are deleted once their records are committed, and replayed at the next start
 *   if the process died first;
 * - when the queue is full (database slow or down), records spill to an append-only JSON-lines file and
 *   are written back once the database keeps up again, or at the next start;
 * - a failed write keeps its batch and retries; `close` writes everything that is left, and spills what
 *   still cannot be written, so SIGTERM loses nothing; if the process exits before `close` (a forced
 *   exit after the shutdown timeout), the queue is spilled synchronously from the `exit` event.
 * Writes must be idempotent on the record id (insert ... on conflict do nothing): a replayed spill file
 * may contain records that were already written.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { claimOrphanJournals, createRecordJournal, type RecordJournal } from './record-journal.ts';

/** Default cap of one writer's journal (STORAGE_JOURNAL_MAX_BYTES). */
export const defaultJournalMaxBytes = 64 * 1024 * 1024;

export interface BatchWriterOptions<T> {
  /** Names the spill files (`<name>.jsonl`); one name per record kind. */
  name: string;
  write(items: T[]): Promise<void>;
  spillDir: string;
  maxBatch?: number;
  maxQueue?: number;
  flushIntervalMs?: number;
  onError?: (error: unknown) => void;
  /** Called once each time the writer starts spilling to disk. */
  onSpill?: (file: string) => void;
  /** Cap of the write-ahead journal in bytes (default 64 MiB); 0 turns the journal off. */
  journalMaxBytes?: number;
  /**
   * Called for each record the journal refused at its cap (it went to the spill file, as durable); `first`
   * is true for the first one since the journal last had room.
   */
  onJournalFull?: (first: boolean) => void;
  /** A journal append failed (I/O error): the record is queued in memory only. */
  onJournalError?: (error: unknown) => void;
}

/** The tunable part of the options, as recorders pass it through from their own options. */
export type BatchWriterTuning = Pick<
  BatchWriterOptions<unknown>,
  'maxBatch' | 'maxQueue' | 'flushIntervalMs' | 'onError' | 'onSpill' | 'journalMaxBytes' | 'onJournalFull' | 'onJournalError'
>;

/** Keeps only the tuning options that are set (exactOptionalPropertyTypes forbids passing `undefined`). */
export function pickTuning(options: BatchWriterTuning): BatchWriterTuning {
  const tuning: BatchWriterTuning = {};
  if (options.maxBatch !== undefined) tuning.maxBatch = options.maxBatch;
  if (options.maxQueue !== undefined) tuning.maxQueue = options.maxQueue;
  if (options.flushIntervalMs !== undefined) tuning.flushIntervalMs = options.flushIntervalMs;
  if (options.onError) tuning.onError = options.onError;
  if (options.onSpill) tuning.onSpill = options.onSpill;
  if (options.journalMaxBytes !== undefined) tuning.journalMaxBytes = options.journalMaxBytes;
  if (options.onJournalFull) tuning.onJournalFull = options.onJournalFull;
  if (options.onJournalError) tuning.onJournalError = options.onJournalError;
  return tuning;
}

export interface BatchWriter<T> {
  add(item: T): void;
  /** Writes everything queued (and spilled) so far. */
  flush(): Promise<void>;
  /** Stops the timer, writes what is left, spills what cannot be written. */
  close(): Promise<void>;
  stats(): { queued: number; written: number; spilled: number; failures: number; journalBytes: number; journalFull: number };
}

/** Writers still open: on process exit (even a forced `process.exit`), their queues go to the spill files. */
const openWriters = new Set<() => void>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const spillQueue of openWriters) {
      try {
        spillQueue();
      } catch {
        // nothing more can be done while exiting
      }
    }
  });
}

export function createBatchWriter<T>(options: BatchWriterOptions<T>): BatchWriter<T> {
  const maxBatch = options.maxBatch ?? 500;
  const maxQueue = Math.max(options.maxQueue ?? 10_000, maxBatch);
  const flushIntervalMs = options.flushIntervalMs ?? 500;
  const spillFile = join(options.spillDir, `${options.name}.jsonl`);
  const replayPrefix = `${options.name}.replay-`;
  const journalMaxBytes = options.journalMaxBytes ?? defaultJournalMaxBytes;
  // Segments a dead process left behind become replay files, written by the first drain below.
  const orphans = journalMaxBytes > 0 ? claimOrphanJournals(options.spillDir, options.name, replayPrefix) : 0;
  const journal: RecordJournal | null =
    journalMaxBytes > 0
      ? createRecordJournal({
          directory: options.spillDir,
          name: options.name,
          maxBytes: journalMaxBytes,
          // The journal's disk failed: the records are kept in memory, as before the journal existed.
          ...(options.onJournalError ? { onError: options.onJournalError } : {}),
        })
      : null;
  let queue: T[] = [];
  let written = 0;
  let spilled = 0;
  let failures = 0;
  let journalFull = 0;
  let journalAtCap = false;
  let spilling = false;
  let closed = false;
  let running: Promise<void> | null = null;
  let rerun = false;
  let backoffUntil = 0;

  function spillLines(lines: string): void {
    mkdirSync(options.spillDir, { recursive: true });
    appendFileSync(spillFile, lines);
    if (!spilling) {
      spilling = true;
      options.onSpill?.(spillFile);
    }
  }

  function spill(items: T[]): void {
    if (items.length === 0) return;
    spillLines(items.map((item) => `${JSON.stringify(item)}\n`).join(''));
    spilled += items.length;
  }

  /** Journals one record before it is queued. False: it could not be queued durably and went to the spill file. */
  function journalled(item: T): boolean {
    if (!journal) return true;
    let line: string;
    try {
      line = `${JSON.stringify(item)}\n`;
    } catch (error) {
      options.onJournalError?.(error);
      return true;
    }
    if (journal.append(line)) {
      journalAtCap = false;
      return true;
    }
    // At the cap: the spill file is as durable (and has no cap).
    journalFull += 1;
    options.onJournalFull?.(!journalAtCap);
    journalAtCap = true;
    try {
      spillLines(line);
      spilled += 1;
      return false;
    } catch (error) {
      options.onJournalError?.(error);
      return true;
    }
  }

  function spillFiles(): string[] {
    let names: string[];
    try {
      names = readdirSync(options.spillDir);
    } catch {
      return [];
    }
    const files = names.filter((name) => name.startsWith(replayPrefix)).sort();
    if (names.includes(`${options.name}.jsonl`)) {
      const target = `${replayPrefix}${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}.jsonl`;
      try {
        renameSync(spillFile, join(options.spillDir, target));
        files.push(target);
        spilling = false;
      } catch {
        // another writer took it
      }
    }
    return files.map((name) => join(options.spillDir, name));
  }

  async function writeBatches(items: T[]): Promise<void> {
    for (let start = 0; start < items.length; start += maxBatch) {
      await options.write(items.slice(start, start + maxBatch));
    }
  }

  /** Writes the queue, then spilled files. Throws on the first failed write, keeping the records. */
  async function drain(): Promise<void> {
    while (queue.length > 0) {
      // Every record queued now is in a sealed segment; records added while these are written go to a new one.
      const segments = journal ? journal.seal() : [];
      let remaining = queue.length;
      while (remaining > 0) {
        const batch = queue.slice(0, Math.min(maxBatch, remaining));
        await options.write(batch);
        queue = queue.slice(batch.length);
        written += batch.length;
        remaining -= batch.length;
      }
      journal?.release(segments);
    }
    for (const file of spillFiles()) {
      const items = readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line.length > 0)
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as T];
          } catch {
            return []; // a torn last line from a crash
          }
        });
      await writeBatches(items);
      written += items.length;
      unlinkSync(file);
    }
  }

  function run(): Promise<void> {
    if (running) {
      rerun = true;
      return running;
    }
    running = (async () => {
      do {
        rerun = false;
        try {
          await drain();
          backoffUntil = 0;
        } catch (error) {
          failures += 1;
          backoffUntil = Date.now() + Math.min(30_000, 250 * 2 ** Math.min(failures, 7));
          options.onError?.(error);
          if (queue.length > maxQueue) spill(queue.splice(maxQueue));
          throw error;
        }
      } while (rerun && queue.length > 0);
    })().finally(() => {
      running = null;
    });
    return running;
  }

  /** On a forced exit: the queue goes to the spill file, which then holds everything the journal did. */
  const spillQueue = () => {
    spill(queue.splice(0));
    journal?.close();
  };
  openWriters.add(spillQueue);
  installExitHook();

  const timer = setInterval(() => {
    if (Date.now() < backoffUntil || running) return;
    run().catch(() => {});
  }, flushIntervalMs);
  timer.unref();
  // Records of a process that died are written now, not at the first tick.
  if (orphans > 0) run().catch(() => {});

  return {
    add(item) {
      if (closed || queue.length >= maxQueue) {
        spill([item]);
        return;
      }
      if (!journalled(item)) return;
      queue.push(item);
      if (queue.length >= maxBatch && !running && Date.now() >= backoffUntil) run().catch(() => {});
    },
    flush() {
      return run();
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      openWriters.delete(spillQueue);
      if (running) await running.catch(() => {});
      try {
        await run();
      } catch {
        spill(queue.splice(0));
      }
      // Everything is committed or in the spill file now.
      journal?.close();
    },
    stats: () => ({ queued: queue.length, written, spilled, failures, journalBytes: journal?.bytes() ?? 0, journalFull }),
  };
}
