/**
 * The write-ahead journal of the batch writer (src/storage/record-journal.ts): a record is on disk when
 * `add` returns, a process killed with SIGKILL leaves it in a segment that the next writer replays,
 * committed segments are deleted, the cap sends records to the spill file, live writers' segments are
 * never claimed, and the SQLite inserter takes rows shaped before a column-adding migration.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.ts';
import { recordsWritten } from '../src/core/record-barrier.ts';
import { createBatchWriter } from '../src/storage/batch-writer.ts';
import { createStorage } from '../src/storage/database.ts';
import { gate, recordingWriter, spillDirectories, stuckWriterScript } from './helpers/batch-writer-fixtures.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';

interface Item {
  id: string;
}

const spillDirectory = spillDirectories('modelgate-journal-');

function journalFiles(spillDir: string): string[] {
  try {
    return readdirSync(spillDir).filter((name) => name.includes('.journal-'));
  } catch {
    return [];
  }
}

function linesOf(spillDir: string, files: string[]): Item[] {
  return files.flatMap((file) =>
    readFileSync(join(spillDir, file), 'utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Item),
  );
}

describe('record journal', () => {
  it('has each record on disk once recordsWritten resolves, and deletes the segments once written', async () => {
    const spillDir = spillDirectory();
    const blocked = gate();
    const { writer, written } = recordingWriter<string>({
      name: 'usage',
      spillDir,
      maxBatch: 4,
      flushIntervalMs: 3_600_000,
      holdWrites: blocked.wait,
    });
    for (let index = 0; index < 10; index++) writer.add({ id: `r${index}` });
    // The lines of this turn are written together at its end (answers wait for it); the first four are
    // on disk already, as the drain that began with them sealed their segment.
    expect(linesOf(spillDir, journalFiles(spillDir))).toHaveLength(4);
    const turnWritten = recordsWritten();
    expect(turnWritten).not.toBeNull();
    await turnWritten;
    expect(recordsWritten()).toBeNull();
    // Nothing is in the database yet (the first batch waits on it), everything is journaled.
    const files = journalFiles(spillDir);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(file).toMatch(new RegExp(`^usage\\.journal-.+-${process.pid}-[a-z0-9]+-\\d+\\.jsonl$`));
    expect(
      linesOf(spillDir, files)
        .map((item) => item.id)
        .sort(),
    ).toEqual(Array.from({ length: 10 }, (_unused, index) => `r${index}`).sort());
    expect(writer.stats().journalBytes).toBeGreaterThan(0);
    blocked.open();
    await writer.flush();
    expect(written).toHaveLength(10);
    expect(journalFiles(spillDir)).toEqual([]);
    expect(writer.stats().journalBytes).toBe(0);
    // Later records start a new segment, which the next drain deletes too.
    writer.add({ id: 'late' });
    await recordsWritten();
    expect(journalFiles(spillDir)).toHaveLength(1);
    await writer.close();
    expect(readdirSync(spillDir)).toEqual([]);
  });

  it('replays the journal of a process killed with SIGKILL, once, in the next writer', async () => {
    const spillDir = spillDirectory();
    const script = stuckWriterScript(
      spillDir,
      25,
      "'killed-' + id",
      "await recordsWritten(); process.stdout.write('added\\n'); setInterval(() => {}, 1000);",
    );
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout?.on('data', (data: Buffer) => data.toString().includes('added') && resolve()));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    // No exit hook ran: the journal is all there is.
    expect(readdirSync(spillDir).filter((name) => name === 'usage.jsonl')).toEqual([]);
    expect(linesOf(spillDir, journalFiles(spillDir))).toHaveLength(25);

    const { writer, written } = recordingWriter<string>({ name: 'usage', spillDir, flushIntervalMs: 3_600_000 });
    await writer.flush();
    expect(written.sort()).toEqual(Array.from({ length: 25 }, (_unused, id) => `killed-${id}`).sort());
    expect(readdirSync(spillDir)).toEqual([]);
    await writer.close();
  });

  it('never claims the segments of a live writer, in this process or another', async () => {
    const spillDir = spillDirectory();
    const first = createBatchWriter<Item>({ name: 'audit', spillDir, flushIntervalMs: 3_600_000, write: () => new Promise(() => {}) });
    first.add({ id: 'kept' });
    await recordsWritten();
    // A live process (this one's parent, say) left a segment: not ours to take.
    mkdirSync(spillDir, { recursive: true });
    const host = hostname()
      .replace(/[^A-Za-z0-9_]/g, '_')
      .slice(0, 64);
    const foreign = `audit.journal-${host}-${process.ppid}-abcd1234-1.jsonl`;
    writeFileSync(join(spillDir, foreign), '{"id":"foreign"}\n');
    // Another host's segment: its process may be alive there.
    const otherHost = 'audit.journal-some_other_host-1-abcd1234-1.jsonl';
    writeFileSync(join(spillDir, otherHost), '{"id":"other-host"}\n');
    const { writer: second, written } = recordingWriter<string>({ name: 'audit', spillDir, flushIntervalMs: 3_600_000 });
    await second.flush();
    expect(written).toEqual([]);
    expect(journalFiles(spillDir)).toEqual(expect.arrayContaining([foreign, otherHost]));
    expect(linesOf(spillDir, journalFiles(spillDir)).map((item) => item.id)).toContain('kept');
    await second.close();
    rmSync(join(spillDir, foreign));
    rmSync(join(spillDir, otherHost));
  });

  it('sends records to the spill file at the cap, says so once, and journals again once there is room', async () => {
    const spillDir = spillDirectory();
    const blocked = gate();
    const fullEvents: boolean[] = [];
    const { writer, written } = recordingWriter<string>({
      name: 'usage',
      spillDir,
      maxBatch: 100,
      flushIntervalMs: 3_600_000,
      journalMaxBytes: 200,
      onJournalFull: (first) => fullEvents.push(first),
      holdWrites: blocked.wait,
    });
    // 13 bytes a line ({"id":"cNN"}\n): 15 fit in 200 bytes.
    for (let index = 10; index < 40; index++) writer.add({ id: `c${index}` });
    expect(writer.stats()).toMatchObject({ queued: 15, spilled: 15, journalFull: 15 });
    expect(fullEvents).toEqual([true, ...Array.from({ length: 14 }, () => false)]);
    expect(writer.stats().journalBytes).toBeLessThanOrEqual(200);
    expect(readFileSync(join(spillDir, 'usage.jsonl'), 'utf8').trim().split('\n')).toHaveLength(15);
    blocked.open();
    await writer.flush();
    expect(written.sort()).toEqual(Array.from({ length: 30 }, (_unused, index) => `c${index + 10}`).sort());
    writer.add({ id: 'c99' });
    expect(writer.stats()).toMatchObject({ queued: 1, journalFull: 15 });
    await writer.close();
  });

  it('is off with journalMaxBytes 0', async () => {
    const spillDir = spillDirectory();
    const writer = createBatchWriter<Item>({
      name: 'usage',
      spillDir,
      flushIntervalMs: 3_600_000,
      journalMaxBytes: 0,
      write: () => new Promise(() => {}),
    });
    writer.add({ id: 'x' });
    expect(journalFiles(spillDir)).toEqual([]);
    expect(writer.stats()).toMatchObject({ queued: 1, journalBytes: 0 });
  });
});

describe('STORAGE_JOURNAL_MAX_BYTES', () => {
  const cwd = tmpdir();
  it('defaults to 64 MiB, takes sizes and 0 (off), is off for an in-memory database, and names itself when wrong', () => {
    expect(loadConfig({}, cwd).storage.journalMaxBytes).toBe(64 * 1024 * 1024);
    expect(loadConfig({ STORAGE_JOURNAL_MAX_BYTES: '1MB' }, cwd).storage.journalMaxBytes).toBe(1024 * 1024);
    expect(loadConfig({ STORAGE_JOURNAL_MAX_BYTES: '0' }, cwd).storage.journalMaxBytes).toBe(0);
    expect(loadConfig({ SQLITE_PATH: ':memory:' }, cwd).storage.journalMaxBytes).toBe(0);
    expect(loadConfig({ SQLITE_PATH: ':memory:', STORAGE_JOURNAL_MAX_BYTES: '8MB' }, cwd).storage.journalMaxBytes).toBe(8 * 1024 * 1024);
    expect(() => loadConfig({ STORAGE_JOURNAL_MAX_BYTES: 'lots' }, cwd)).toThrow(/STORAGE_JOURNAL_MAX_BYTES/);
  });
});

describe.each(['sqlite', 'postgresql'] as const)('replayed rows of an older or newer shape on %s', (backendName) => {
  let backend: StorageBackend | undefined;
  afterEach(async () => {
    await backend?.cleanup();
    backend = undefined;
  });

  it('inserts rows written before a column-adding migration, and rows with a column this database lacks', async () => {
    backend = createBackend(backendName);
    const storage = await createStorage(backend.settings);
    try {
      const base = {
        request_id: 'req',
        created_at: 1_764_633_600_000,
        day: '2025-12-02',
        endpoint: 'chat.completions',
        provider: 'openai',
        provider_type: 'openai',
        model: 'gpt-4o-mini',
        requested_model: 'gpt-4o-mini',
        stream: 0,
        status: 200,
        error_code: null,
        input_tokens: 3,
        output_tokens: 4,
        total_tokens: 7,
        cached_tokens: 0,
        reasoning_tokens: 0,
        cache_write_tokens: 0,
        cost_usd: null,
        priced: 0,
        key_id: null,
        latency_ms: 1,
        first_byte_ms: null,
      };
      // Shaped like a record of the first release: no cache_status, saved_cost_usd nor owner columns.
      const old = { ...base, id: 'old-shape' };
      const current = {
        ...base,
        id: 'current',
        cache_status: 'miss',
        saved_cost_usd: null,
        key_user: 'ann',
        key_team: null,
        key_tags: null,
      };
      // From a newer build (after a rollback): a column this database does not have.
      const newer = { ...current, id: 'newer', column_of_the_future: 'x' };
      const rows = [current, old, newer, { ...old, id: 'old-shape-2' }] as never[];
      await storage.insertIgnoringDuplicates('usage', rows);
      // Replayed again (a journal replayed after a crash): no duplicates.
      await storage.insertIgnoringDuplicates('usage', rows);
      const stored = await storage.db
        .selectFrom('usage')
        .select(['id', 'cache_status', 'key_user', 'total_tokens'])
        .orderBy('id')
        .execute();
      expect(stored.map((row) => ({ ...row, total_tokens: Number(row.total_tokens) }))).toEqual([
        { id: 'current', cache_status: 'miss', key_user: 'ann', total_tokens: 7 },
        { id: 'newer', cache_status: 'miss', key_user: 'ann', total_tokens: 7 },
        { id: 'old-shape', cache_status: 'none', key_user: null, total_tokens: 7 },
        { id: 'old-shape-2', cache_status: 'none', key_user: null, total_tokens: 7 },
      ]);
    } finally {
      await storage.close();
    }
  });
});
