/** The batched writer: back-pressure by spilling to disk, retry, flush on close, replay at the next start. */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBatchWriter } from '../src/storage/batch-writer.ts';
import { gate, recordingWriter, spillDirectories, stuckWriterScript } from './helpers/batch-writer-fixtures.ts';

interface Item {
  id: number;
}

const spillDirectory = spillDirectories('modelgate-spill-');

describe('batch writer', () => {
  it('spills to disk when the queue is full and writes every record once the database keeps up', async () => {
    const spillDir = spillDirectory();
    const blocked = gate();
    let spills = 0;
    const { writer, written } = recordingWriter<number>({
      name: 'test',
      spillDir,
      maxBatch: 5,
      maxQueue: 10,
      flushIntervalMs: 3_600_000,
      onSpill: () => {
        spills += 1;
      },
      holdWrites: blocked.wait,
    });
    for (let id = 0; id < 100; id++) writer.add({ id });
    // The first batch is stuck in the database; 10 wait in memory; the rest went to disk.
    expect(writer.stats()).toMatchObject({ queued: 10, spilled: 90 });
    expect(spills).toBe(1);
    const spillFile = join(spillDir, 'test.jsonl');
    expect(readFileSync(spillFile, 'utf8').trim().split('\n')).toHaveLength(90);

    blocked.open();
    await writer.flush();
    expect([...written].sort((left, right) => left - right)).toEqual(Array.from({ length: 100 }, (_unused, id) => id));
    expect(existsSync(spillFile)).toBe(false);
    expect(readdirSync(spillDir)).toEqual([]);
    await writer.close();
  });

  it('keeps failed batches, spills them on close, and replays them in the next process', async () => {
    const spillDir = spillDirectory();
    const errors: unknown[] = [];
    const failing = createBatchWriter<Item>({
      name: 'usage',
      spillDir,
      maxBatch: 4,
      flushIntervalMs: 3_600_000,
      onError: (error) => errors.push(error),
      write: async () => {
        throw new Error('database is down');
      },
    });
    for (let id = 0; id < 20; id++) failing.add({ id });
    await expect(failing.flush()).rejects.toThrow('database is down');
    expect(failing.stats().queued).toBe(20);
    await failing.close();
    expect(errors.length).toBeGreaterThan(0);
    // After close, a late record is not dropped either.
    failing.add({ id: 20 });

    const { writer: next, written } = recordingWriter<number>({ name: 'usage', spillDir, flushIntervalMs: 3_600_000 });
    await next.flush();
    expect(written.sort((left, right) => left - right)).toEqual(Array.from({ length: 21 }, (_unused, id) => id));
    expect(readdirSync(spillDir)).toEqual([]);
    await next.close();
  });

  it('writes what is queued on close without waiting for the timer', async () => {
    const spillDir = spillDirectory();
    const { writer, written } = recordingWriter<number>({ name: 'audit', spillDir, flushIntervalMs: 3_600_000 });
    for (let id = 0; id < 7; id++) writer.add({ id });
    expect(written).toEqual([]);
    await writer.close();
    expect(written).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // The journal's segment is gone once its records are written; nothing spilled.
    expect(readdirSync(spillDir)).toEqual([]);
  });

  it('spills the queue when the process is forced to exit before close', () => {
    const spillDir = spillDirectory();
    const script = stuckWriterScript(spillDir, 7, 'id', 'process.exit(1);');
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    const lines = readFileSync(join(spillDir, 'usage.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as Item).id)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('skips a torn last line left by a crash', async () => {
    const spillDir = spillDirectory();
    mkdirSync(spillDir, { recursive: true });
    writeFileSync(join(spillDir, 'usage.jsonl'), '{"id":1}\n{"id":2}\n{"id":');
    const { writer, written } = recordingWriter<number>({ name: 'usage', spillDir, flushIntervalMs: 3_600_000 });
    await writer.flush();
    expect(written).toEqual([1, 2]);
    await writer.close();
  });
});
