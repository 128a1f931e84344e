/**
 * What the batch writer's tests (test/storage-batch-writer.test.ts, test/storage-journal.test.ts) share:
 * throw-away spill directories, a gate that holds the database write, a writer that records the ids it
 * wrote, and the script of a child process whose writer never reaches the database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { type BatchWriter, type BatchWriterOptions, createBatchWriter } from '../../src/storage/batch-writer.ts';

/** Returns a maker of fresh spill directories (`<temp>/spill`, not yet created); each is removed after its test. */
export function spillDirectories(prefix: string): () => string {
  const directories: string[] = [];
  afterEach(() => {
    for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
  });
  return () => {
    const directory = mkdtempSync(join(tmpdir(), prefix));
    directories.push(directory);
    return join(directory, 'spill');
  };
}

/** A promise that stays pending until `open` is called (a database write that hangs until the test lets it go). */
export function gate(): { wait: Promise<void>; open(): void } {
  let open = () => {};
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

/**
 * A batch writer whose database is an array: `written` gets the ids of the records of every batch it
 * writes, in order, after `holdWrites` (when given) has resolved.
 */
export function recordingWriter<Id>(options: Omit<BatchWriterOptions<{ id: Id }>, 'write'> & { holdWrites?: Promise<void> }): {
  writer: BatchWriter<{ id: Id }>;
  written: Id[];
} {
  const { holdWrites, ...writerOptions } = options;
  const written: Id[] = [];
  const writer = createBatchWriter<{ id: Id }>({
    ...writerOptions,
    write: async (items) => {
      await holdWrites;
      written.push(...items.map((item) => item.id));
    },
  });
  return { writer, written };
}

/**
 * The source of an ES module (for `node --input-type=module -e`) that creates a writer named `usage` in
 * `spillDir` whose writes never finish, adds `count` records with the ids `idExpression` (JavaScript, of
 * `id`), then runs `then` (how the process ends; `await recordsWritten()` there waits for the journal write).
 */
export function stuckWriterScript(spillDir: string, count: number, idExpression: string, then: string): string {
  return `
      import { createBatchWriter } from ${JSON.stringify(join(process.cwd(), 'src/storage/batch-writer.ts'))};
      import { recordsWritten } from ${JSON.stringify(join(process.cwd(), 'src/core/record-barrier.ts'))};
      const writer = createBatchWriter({ name: 'usage', spillDir: ${JSON.stringify(spillDir)}, flushIntervalMs: 3600000, write: () => new Promise(() => {}) });
      for (let id = 0; id < ${count}; id++) writer.add({ id: ${idExpression} });
      ${then}
    `;
}
