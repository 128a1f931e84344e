/**
 * What runs once the gateway has started (src/core/after-start.ts): the started event, then one
 * memory-reducing GC that shrinks V8's young generation back after a start-up grew it, without leaving a
 * `gc` function in the global scope. Run in a child process: the test runner's own heap is not a start-up.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = `
import { getHeapSpaceStatistics } from 'node:v8';
import { afterStart, startedEvent } from ${JSON.stringify(join(process.cwd(), 'src/core/after-start.ts'))};
const newSpace = () => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size;
// A start-up's pattern: many objects that survive a while, so that V8 grows the young generation.
const kept = [];
for (let round = 0; round < 400; round++) kept.push(Array.from({ length: 2000 }, (_, index) => ({ round, index, text: 'x' + index })));
const grown = newSpace();
kept.length = 0;
let announced = false;
process.once(startedEvent, () => { announced = true; });
afterStart();
console.log(JSON.stringify({ grown, after: newSpace(), announced, gcInGlobal: typeof globalThis.gc }));
`;

describe('after start', () => {
  it('announces the start, then gives the young generation back, with no gc left in the global scope', () => {
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const result = JSON.parse(output.trim()) as { grown: number; after: number; announced: boolean; gcInGlobal: string };
    expect(result.announced).toBe(true);
    expect(result.grown).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    expect(result.after).toBeLessThanOrEqual(result.grown / 2);
    expect(result.gcInGlobal).toBe('undefined');
  });
});
