/**
 * The embedded store's durable counters (budgets) are written to SQLite coalesced: the changes of one
 * event-loop turn in one transaction, a settlement with the next reservation or a few milliseconds later.
 * What must hold: a resolved reserve or settle is on disk (another handle on the file, or a restart, reads
 * it), `close` writes what is pending, and the limit holds in memory whatever is not written yet.
 */
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

  it('has a settlement on disk once settle resolves, and writes a pending one on close', async () => {
    const path = file();
    const first = open(path);
    await first.reserve([{ key: 'spend', amount: 100, limit: 1000 }], day);
    expect(await first.settle([{ key: 'spend', delta: -60 }], day)).toEqual([40]);
    expect(await open(path).counters(['spend'])).toEqual([40]);
    await first.close();
    // Not awaited: with a one-minute delay it is still pending when the store closes.
    const second = open(path, 60_000);
    const pending = second.settle([{ key: 'spend', delta: -15 }], day);
    await second.close();
    await pending;
    expect(await open(path).counters(['spend'])).toEqual([25]);
  });

  it('writes a settlement with the next reservation of the same turn', async () => {
    const path = file();
    const state = open(path, 60_000);
    await state.reserve([{ key: 'spend', amount: 100, limit: 1000 }], day);
    const settled = state.settle([{ key: 'spend', delta: -70 }], day);
    await state.reserve([{ key: 'spend', amount: 5, limit: 1000 }], day);
    await settled;
    expect(await open(path).counters(['spend'])).toEqual([35]);
  });
});
