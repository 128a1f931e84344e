/**
 * The embedded store's durable counters (budgets): memory is the truth, SQLite holds a durable bound. What
 * must hold: once reserve resolves, the file holds at least the reserved value (another handle on the file,
 * or a restart after a crash, reads it), at most the entry's headroom (1 % of its limit) above it; a
 * reservation under the bound writes nothing; the reservations of one turn are one transaction; a
 * settlement that passes the bound is on disk once settle resolves; `close` writes exact values; after a
 * kill -9 the file is never below the real spend.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmbeddedState } from '../src/state/embedded-state.ts';
import type { SharedState } from '../src/state/shared-state.ts';

const day = 86_400_000;

describe('embedded shared state: durable counters', () => {
  const directories: string[] = [];
  const opened: SharedState[] = [];
  const open = (sqlitePath: string, settleDelayMs?: number) => {
    const state = createEmbeddedState({ sqlitePath, ...(settleDelayMs === undefined ? {} : { settleDelayMs }) });
    opened.push(state);
    return state;
  };
  const file = () => {
    const directory = mkdtempSync(join(tmpdir(), 'modelgate-counters-'));
    directories.push(directory);
    return join(directory, 'state.db');
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((state) => state.close()));
    for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
  });

  it('writes the reservations of one turn in one transaction, each on disk once reserve resolves', async () => {
    const path = file();
    const state = open(path);
    // Opens the file (the first counter does) and settles its size.
    await state.reserve([{ key: 'warm', amount: 1, limit: 10 }], day);
    const walBefore = statSync(`${path}-wal`).size;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, index) => state.reserve([{ key: index % 2 ? 'a' : 'b', amount: 3, limit: 240 }], day)),
    );
    // The limit holds in memory: 80 of each key's 100 fit under 240.
    expect(results.filter((result) => result.granted)).toHaveLength(160);
    const other = open(path);
    expect(await other.counters(['a', 'b'])).toEqual([240, 240]);
    // One commit per reservation would have appended 160 WAL frames (a 4 KiB page each); a few did it.
    expect(statSync(`${path}-wal`).size - walBefore).toBeLessThan(8 * 4200);
  });

  it('writes nothing for a reservation under the bound, and raises the bound with headroom when one passes it', async () => {
    const path = file();
    const state = open(path);
    const other = open(path);
    // Limit 1000: headroom 10.
    await state.reserve([{ key: 'spend', amount: 10, limit: 1000 }], day);
    expect(await other.counters(['spend'])).toEqual([20]);
    const walBefore = statSync(`${path}-wal`).size;
    expect((await state.reserve([{ key: 'spend', amount: 5, limit: 1000 }], day)).totals).toEqual([15]);
    expect((await state.reserve([{ key: 'spend', amount: 5, limit: 1000 }], day)).totals).toEqual([20]);
    expect(statSync(`${path}-wal`).size).toBe(walBefore);
    await state.reserve([{ key: 'spend', amount: 1, limit: 1000 }], day);
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(walBefore);
    expect(await open(path).counters(['spend'])).toEqual([31]);
    // The bound never passes the limit.
    await state.reserve([{ key: 'spend', amount: 969, limit: 1000 }], day);
    expect(await open(path).counters(['spend'])).toEqual([1000]);
  });

  it('keeps a settlement that gives back in memory, writes one that passes the bound, and writes exact values on close', async () => {
    const path = file();
    const first = open(path);
    await first.reserve([{ key: 'spend', amount: 100, limit: 1000 }], day);
    expect(await first.settle([{ key: 'spend', delta: -60 }], day)).toEqual([40]);
    expect(await first.counters(['spend'])).toEqual([40]);
    // On disk: still the bound of the reservation (100 plus 10 of headroom), never less than memory.
    expect(await open(path).counters(['spend'])).toEqual([110]);
    expect(await first.settle([{ key: 'spend', delta: 90 }], day)).toEqual([130]);
    expect(await open(path).counters(['spend'])).toEqual([130]);
    await first.settle([{ key: 'spend', delta: -30 }], day);
    await first.close();
    expect(await open(path).counters(['spend'])).toEqual([100]);
    // A settlement past the bound, not awaited: with a one-minute delay it is still pending when the store closes.
    const second = open(path, 60_000);
    const pending = second.settle([{ key: 'spend', delta: 15 }], day);
    await second.close();
    await pending;
    expect(await open(path).counters(['spend'])).toEqual([115]);
  });

  it('writes a settlement past the bound with the next reservation of the same turn', async () => {
    const path = file();
    const state = open(path, 60_000);
    await state.reserve([{ key: 'spend', amount: 100, limit: 1000 }], day);
    const settled = state.settle([{ key: 'spend', delta: 20 }], day);
    await state.reserve([{ key: 'spend', amount: 5, limit: 1000 }], day);
    await settled;
    expect(await state.counters(['spend'])).toEqual([125]);
    // One write for both: the reservation's bound (125 plus 10 of headroom).
    expect(await open(path).counters(['spend'])).toEqual([135]);
  });

  it('never holds less than the real spend after a kill -9', async () => {
    const path = file();
    // 100 calls reserve 500 each and settle to a real cost of 37, then the process dies without closing.
    const script = `
      import { createEmbeddedState } from ${JSON.stringify(new URL('../src/state/embedded-state.ts', import.meta.url).pathname)};
      const state = createEmbeddedState({ sqlitePath: ${JSON.stringify(path)} });
      for (let call = 0; call < 100; call++) {
        await state.reserve([{ key: 'spend', amount: 500, limit: 100000 }], ${day});
        state.settle([{ key: 'spend', delta: -463 }], ${day});
      }
      process.kill(process.pid, 'SIGKILL');
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.signal, child.stderr).toBe('SIGKILL');
    const [onDisk = 0] = await open(path).counters(['spend']);
    // Real spend 3,700; at most the headroom (1,000) and one call's reservation above it.
    expect(onDisk).toBeGreaterThanOrEqual(3_700);
    expect(onDisk).toBeLessThanOrEqual(3_700 + 1_000 + 500);
  });
});
