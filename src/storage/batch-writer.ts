/**
 * Writes records in batches, off the request path. `add` never blocks and never drops:
 * - records queue in memory (bounded by `maxQueue`) and are written every `flushIntervalMs`, or at once
 *   when a full batch is waiting;
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
}

/** The tunable part of the options, as recorders pass it through from their own options. */
export type BatchWriterTuning = Pick<BatchWriterOptions<unknown>, 'maxBatch' | 'maxQueue' | 'flushIntervalMs' | 'onError' | 'onSpill'>;

/** Keeps only the tuning options that are set (exactOptionalPropertyTypes forbids passing `undefined`). */
export function pickTuning(options: BatchWriterTuning): BatchWriterTuning {
  const tuning: BatchWriterTuning = {};
  if (options.maxBatch !== undefined) tuning.maxBatch = options.maxBatch;
  if (options.maxQueue !== undefined) tuning.maxQueue = options.maxQueue;
  if (options.flushIntervalMs !== undefined) tuning.flushIntervalMs = options.flushIntervalMs;
  if (options.onError) tuning.onError = options.onError;
  if (options.onSpill) tuning.onSpill = options.onSpill;
  return tuning;
}

export interface BatchWriter<T> {
  add(item: T): void;
  /** Writes everything queued (and spilled) so far. */
  flush(): Promise<void>;
  /** Stops the timer, writes what is left, spills what cannot be written. */
  close(): Promise<void>;
  stats(): { queued: number; written: number; spilled: number; failures: number };
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
  let queue: T[] = [];
  let written = 0;
  let spilled = 0;
  let failures = 0;
  let spilling = false;
  let closed = false;
  let running: Promise<void> | null = null;
  let rerun = false;
  let backoffUntil = 0;

  function spill(items: T[]): void {
    if (items.length === 0) return;
    mkdirSync(options.spillDir, { recursive: true });
    appendFileSync(spillFile, items.map((item) => `${JSON.stringify(item)}\n`).join(''));
    spilled += items.length;
    if (!spilling) {
      spilling = true;
      options.onSpill?.(spillFile);
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
      const batch = queue.slice(0, maxBatch);
      await options.write(batch);
      queue = queue.slice(batch.length);
      written += batch.length;
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

  const spillQueue = () => spill(queue.splice(0));
  openWriters.add(spillQueue);
  installExitHook();

  const timer = setInterval(() => {
    if (Date.now() < backoffUntil || running) return;
    run().catch(() => {});
  }, flushIntervalMs);
  timer.unref();

  return {
    add(item) {
      if (closed || queue.length >= maxQueue) {
        spill([item]);
        return;
      }
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
    },
    stats: () => ({ queued: queue.length, written, spilled, failures }),
  };
}
