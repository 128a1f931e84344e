/**
 * What runs once the gateway has started (src/core/after-start.ts): the started event, then one
 * memory-reducing GC, when the gateway is idle, that shrinks V8's young generation back after a start-up grew it,
 * without leaving a `gc` function in the global scope. scheduleAfterStart's request count is checked through
 * a real server. Run in a child process: the test runner's own heap is not a start-up.
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
const busy = afterStart(true);
const grownAgain = newSpace();
const idle = afterStart(false);
console.log(JSON.stringify({ grown, busy: busy.collected, grownAgain, idle: idle.collected, after: newSpace(), announced, gcInGlobal: typeof globalThis.gc }));
`;

describe('after start', () => {
  it('announces the start, then gives the young generation back when idle (not when busy), with no gc left in the global scope', () => {
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const result = JSON.parse(output.trim()) as {
      grown: number;
      busy: boolean;
      grownAgain: number;
      idle: boolean;
      after: number;
      announced: boolean;
      gcInGlobal: string;
    };
    expect(result.announced).toBe(true);
    expect(result.grown).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    // Busy: no GC, the young generation stays as it was.
    expect(result.busy).toBe(false);
    expect(result.grownAgain).toBe(result.grown);
    expect(result.idle).toBe(true);
    expect(result.after).toBeLessThanOrEqual(result.grown / 2);
    expect(result.gcInGlobal).toBe('undefined');
  });
});

describe('scheduleAfterStart', () => {
  it('counts the first moments: idle with a probe, busy past the request limit or with many connections open', async () => {
    const { createServer } = await import('node:http');
    const { Agent, request } = await import('undici');
    const { idleStartConnections, idleStartRequests, scheduleAfterStart } = await import('../src/core/after-start.ts');
    const run = async (requests: number, connections: number, collectGarbage = true) => {
      const server = createServer((_request, response) => response.end('ok'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as { port: number };
      const result = new Promise<{ collected: boolean; requests: number; connections: number }>((resolve) =>
        scheduleAfterStart(server, { collectGarbage }, resolve),
      );
      // Keep-alive connections stay open until the count is taken, as a load generator's do.
      const agent = new Agent({ connections, keepAliveTimeout: 10_000 });
      // Sent together, so that all of them arrive within the first moments even on a loaded machine.
      await Promise.all(
        Array.from({ length: requests }, async () => (await request(`http://127.0.0.1:${port}/health`, { dispatcher: agent })).body.text()),
      );
      const outcome = await result;
      await agent.close();
      await new Promise((resolve) => server.close(resolve));
      return outcome;
    };
    const idle = await run(1, 1);
    expect(idle).toEqual({ collected: true, requests: 1, connections: 1 });
    const manyRequests = await run(idleStartRequests * 3, 2);
    expect(manyRequests.requests).toBeGreaterThan(idleStartRequests);
    expect(manyRequests.collected).toBe(false);
    const manyConnections = await run(idleStartConnections * 2, idleStartConnections * 2);
    expect(manyConnections.connections).toBeGreaterThan(idleStartConnections);
    expect(manyConnections.requests).toBeLessThanOrEqual(idleStartRequests);
    expect(manyConnections.collected).toBe(false);
    // STARTUP_GC=false: never, even when idle.
    expect((await run(1, 1, false)).collected).toBe(false);
  });
});
