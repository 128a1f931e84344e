/**
 * The instruction-count bench (bench/instructions.ts) at tiny scale: Modelgate under valgrind's callgrind with
 * the master key, with a managed key (one rate limit, one budget) and with the exact cache on (every request a
 * hit), and the bare proxy (floor), 100 requests each after 100 of warm-up.
 * Proves that instrumentation is switched on and dumped through callgrind_control (a failure there leaves no
 * dump file and throws), that every request succeeded and that the counts are plausible for a chat relay;
 * asserts nothing about performance. Skipped where valgrind is not installed.
 */
import { describe, expect, it } from 'vitest';
import { callgrindTotal, formatInstructionReport, hasCallgrind, runInstructionBench } from '../bench/instructions.ts';

const available = await hasCallgrind();

describe('the instruction-count bench at tiny scale', () => {
  it('reads totals from callgrind output', () => {
    expect(callgrindTotal('events: Ir\nsummary: 0\n\nfn=x\n0 5\ntotals: 12345\n')).toBe(12345);
    expect(callgrindTotal('events: Ir\nsummary: 77\n')).toBe(77);
    expect(() => callgrindTotal('events: Ir\n')).toThrow(/no totals/);
  });

  it.skipIf(!available)(
    'counts instructions per request for the master key, a managed key, cache hits and the floor',
    async () => {
      const results = await runInstructionBench({
        targets: ['modelgate', 'managed', 'cache-hit', 'floor'],
        connections: [1],
        requests: 100,
        warmup: 100,
        idleSeconds: 1,
        rounds: 1,
        targetSettings: {},
      });
      expect(results.runs.map((run) => [run.target, run.requests, run.errors])).toEqual([
        ['modelgate', 100, 0],
        ['managed', 100, 0],
        ['cache-hit', 100, 0],
        ['floor', 100, 0],
      ]);
      // The cache-hit target answered its requests from the cache (the bench throws when it counted fewer hits).
      expect(results.runs.find((run) => run.target === 'cache-hit')?.cacheHits).toBeGreaterThanOrEqual(199);
      for (const run of results.runs) {
        // A chat call through the gateway is some hundred thousand instructions, far from zero or billions.
        expect(run.perRequest, run.target).toBeGreaterThan(100_000);
        expect(run.perRequest, run.target).toBeLessThan(50_000_000);
      }
      expect(Object.keys(results.ratios)).toEqual(['managed/modelgate.c1', 'cache-hit/floor.c1', 'modelgate/floor.c1']);
      expect(formatInstructionReport(results)).toContain('managed/modelgate.c1');
    },
    480_000,
  );
});
