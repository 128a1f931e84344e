/**
 * The response cache bench (bench/cache.ts) at tiny scale: the mock upstream, the bare proxy and two
 * Modelgate processes (cache off, exact cache on), 20 requests per workload. Proves the workloads do what
 * they say (the cache target counts the hits and misses) and the results are complete; asserts nothing
 * about performance.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheWorkloadIds, formatCacheReport, runCacheBench, writeCacheResults } from '../bench/cache.ts';
import { quickSettings } from '../bench/settings.ts';
import { targetDefinitions } from '../bench/target-definitions.ts';
import { freePort } from '../bench/targets.ts';

describe('the response cache bench at tiny scale', () => {
  const directory = mkdtempSync(join(tmpdir(), 'modelgate-bench-cache-smoke-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('measures exact hits against the floor and misses with the cache on and off', async () => {
    const definitions = await targetDefinitions(await freePort(), directory, { ...quickSettings, streamChunks: 3 });
    const lines: string[] = [];
    const results = await runCacheBench(
      { durationSeconds: 1, warmupSeconds: 0, rounds: 1, requestsPerRun: 20 },
      { definitions, workDirectory: directory, log: (line) => lines.push(line) },
    );
    expect(results.workloads.floor?.['chat-c32']?.count).toBe(20);
    for (const workload of cacheWorkloadIds) {
      expect(results.workloads['modelgate-cache']?.[workload]?.count, workload).toBe(20);
      expect(results.workloads['modelgate-cache']?.[workload]?.errors, workload).toBe(0);
    }
    expect(results.workloads.modelgate?.['miss-c1']?.count).toBe(20);
    expect(results.workloads.modelgate?.['miss-c32']?.count).toBe(20);
    // The priming request and 40 miss requests missed; the 20 hit requests hit.
    expect(results.cacheCounts.hits).toBe(20);
    expect(results.cacheCounts.misses).toBe(41);
    // Stores are written once each answer is complete; the last may still be on its way.
    expect(results.cacheCounts.stores).toBeGreaterThanOrEqual(40);
    expect(Number.isFinite(results.ratios.hitThroughputVsFloor)).toBe(true);
    const report = formatCacheReport(results);
    expect(report).toContain('Exact hit c32 vs bare proxy c32');
    expect(report).toContain('Miss with the cache on vs off');
    const written = JSON.parse(readFileSync(writeCacheResults(results, directory, 'cache-smoke'), 'utf8')) as { cacheCounts: unknown };
    expect(written.cacheCounts).toEqual(results.cacheCounts);
  }, 120_000);
});
