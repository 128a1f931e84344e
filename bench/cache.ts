/**
 * `npm run bench -- --cache`: the response cache's two performance figures (issue 10), in one run on
 * one machine, each target its own process over the instant mock upstream:
 * - **hit**: Modelgate with the exact cache on (embedded store), the same chat request at concurrency 32,
 *   so every request after the first is an exact hit that never calls the upstream; its throughput
 *   against the bare proxy's (`floor`) for the same request. Goal: at least 1x.
 * - **miss**: every request different (a counter in the prompt), at concurrency 1 and 32, so every lookup
 *   misses and every answer is stored; CPU time per request of Modelgate with the cache on against the
 *   same Modelgate with it off. Goal: at most 1.05x.
 * The hit and miss counts are read back from the cache target's /metrics (modelgate_cache_requests_total),
 * so a run whose workload did not do what it says is visible. Rounds alternate the target order and
 * keep each target's best round (background load only ever slows a run down). Writes
 * bench/results/cache.json (cache-quick.json with --quick).
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { type RequestSpec, runThroughput, type ThroughputResult } from './load.ts';
import { measureRun, writeJsonResults } from './measured-run.ts';
import { metricSum } from './metric-sum.ts';
import { benchModel } from './mock-upstream.ts';
import { machineInfo } from './report.ts';
import { freePort, type RunningTarget, startTarget, type TargetDefinition } from './targets.ts';

export const cacheWorkloadIds = ['hit-c32', 'miss-c1', 'miss-c32'] as const;
export type CacheWorkloadId = (typeof cacheWorkloadIds)[number];

export interface CacheBenchSettings {
  durationSeconds: number;
  warmupSeconds: number;
  rounds: number;
  /** A fixed request count per run instead of a duration (smoke tests). */
  requestsPerRun?: number;
}

export interface CacheBenchResults {
  date: string;
  machine: ReturnType<typeof machineInfo>;
  loadAverageAtEnd: number[];
  settings: CacheBenchSettings;
  /** target id -> workload -> best round. */
  workloads: Record<string, Partial<Record<CacheWorkloadId | 'chat-c32', ThroughputResult>>>;
  /** From the cache target's /metrics after the run. */
  cacheCounts: { hits: number; misses: number; stores: number };
  ratios: {
    /** Cache hits at c32 / the bare proxy at c32, requests per second. Goal >= 1. */
    hitThroughputVsFloor: number;
    /** CPU per request of a miss, cache on / cache off. Goal <= 1.05. */
    missCpuC1: number;
    missCpuC32: number;
  };
}

const fixedBody = JSON.stringify({
  model: benchModel,
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'Say hello in one short sentence.' },
  ],
  max_tokens: 64,
});

/** A different request every time (same size class as the fixed one): every lookup misses. */
function missBodies(): () => string {
  const run = Math.random().toString(36).slice(2, 8);
  let counter = 0;
  return () =>
    JSON.stringify({
      model: benchModel,
      messages: [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: `Say hello in one short sentence. ${run}-${++counter}` },
      ],
      max_tokens: 64,
    });
}

export interface CacheBenchTargets {
  /** The bench's own definitions (bench/target-definitions.ts `targetDefinitions`): direct, floor and modelgate are used. */
  definitions: Record<string, TargetDefinition>;
  /** Where the targets keep their databases and logs (removed by the caller). */
  workDirectory: string;
  log?: (line: string) => void;
}

export async function runCacheBench(settings: CacheBenchSettings, targets: CacheBenchTargets): Promise<CacheBenchResults> {
  const log = targets.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const machine = machineInfo();
  const { definitions, workDirectory } = targets;
  const base = definitions.modelgate as TargetDefinition;
  const cached: TargetDefinition = {
    ...base,
    id: 'modelgate-cache',
    label: 'Modelgate, exact cache on (embedded store)',
    port: await freePort(),
    env: {
      ...base.env,
      RESPONSE_CACHE_SIMPLE_ENABLED: 'true',
      RESPONSE_CACHE_SQLITE_PATH: join(workDirectory, 'cache.db'),
      SQLITE_PATH: join(workDirectory, 'modelgate-cache.db'),
    },
  };
  cached.env.PORT = String(cached.port);
  const off: TargetDefinition = { ...base, label: 'Modelgate, cache off (default)' };
  const startOptions = { logDirectory: workDirectory };
  const running = new Map<string, RunningTarget>();
  const workloads: CacheBenchResults['workloads'] = {};
  const keep = (id: string, workload: CacheWorkloadId | 'chat-c32', measured: ThroughputResult) => {
    workloads[id] ??= {};
    const byTarget = workloads[id];
    const best = byTarget[workload];
    if (!best || measured.requestsPerSecond > best.requestsPerSecond) byTarget[workload] = measured;
    log(
      `  ${id.padEnd(16)} ${workload.padEnd(9)} ${measured.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${measured.p50Ms.toFixed(3)} ms  cpu/req ${measured.cpuMsPerRequest?.toFixed(3) ?? '-'} ms  errors ${measured.errors}`,
    );
  };
  let cacheCounts = { hits: 0, misses: 0, stores: 0 };
  try {
    for (const definition of [definitions.direct as TargetDefinition, definitions.floor as TargetDefinition, off, cached]) {
      const target = await startTarget(definition, startOptions);
      running.set(definition.id, target);
      log(`${definition.label}: ready in ${target.coldStartMs.toFixed(0)} ms`);
    }
    const floor = running.get('floor') as RunningTarget;
    const modelgate = running.get('modelgate') as RunningTarget;
    const cache = running.get('modelgate-cache') as RunningTarget;
    const spec = (target: RunningTarget, bodyFor?: () => string): RequestSpec => ({
      url: target.url,
      path: '/v1/chat/completions',
      headers: target.definition.headers,
      body: fixedBody,
      ...(bodyFor ? { bodyFor } : {}),
    });
    // The entry the hit workload is served from.
    await runThroughput(spec(cache), { connections: 1, amount: 1 });
    const rounds = settings.requestsPerRun === undefined ? settings.rounds : 1;
    for (let round = 0; round < rounds; round++) {
      log(`Round ${round + 1} of ${rounds}`);
      const hitOrder: [string, RunningTarget, CacheWorkloadId | 'chat-c32'][] = [
        ['floor', floor, 'chat-c32'],
        ['modelgate-cache', cache, 'hit-c32'],
      ];
      for (const [id, target, workload] of round % 2 === 0 ? hitOrder : [...hitOrder].reverse())
        keep(id, workload, await measureRun(target, spec(target), 32, settings));
      const missOrder: [string, RunningTarget][] = [
        ['modelgate', modelgate],
        ['modelgate-cache', cache],
      ];
      for (const connections of [1, 32]) {
        for (const [id, target] of round % 2 === 0 ? missOrder : [...missOrder].reverse()) {
          keep(id, connections === 1 ? 'miss-c1' : 'miss-c32', await measureRun(target, spec(target, missBodies()), connections, settings));
        }
      }
    }
    const metrics = await (await fetch(`${cache.url}/metrics`, { headers: cache.definition.headers })).text();
    cacheCounts = {
      hits: metricSum(metrics, 'modelgate_cache_requests_total', 'result="hit_exact"'),
      misses: metricSum(metrics, 'modelgate_cache_requests_total', 'result="miss"'),
      stores: metricSum(metrics, 'modelgate_cache_stores_total', 'endpoint="chat.completions"'),
    };
    log(`Cache target counted ${cacheCounts.hits} hits, ${cacheCounts.misses} misses, ${cacheCounts.stores} stores`);
  } finally {
    for (const target of running.values()) await target.stop();
  }
  const ratio = (numerator: number | undefined, denominator: number | undefined) =>
    numerator === undefined || denominator === undefined || denominator === 0 ? Number.NaN : Number((numerator / denominator).toFixed(3));
  return {
    date: new Date().toISOString(),
    machine,
    loadAverageAtEnd: loadavg().map((value) => Number(value.toFixed(2))),
    settings,
    workloads,
    cacheCounts,
    ratios: {
      hitThroughputVsFloor: ratio(
        workloads['modelgate-cache']?.['hit-c32']?.requestsPerSecond,
        workloads.floor?.['chat-c32']?.requestsPerSecond,
      ),
      missCpuC1: ratio(workloads['modelgate-cache']?.['miss-c1']?.cpuMsPerRequest, workloads.modelgate?.['miss-c1']?.cpuMsPerRequest),
      missCpuC32: ratio(workloads['modelgate-cache']?.['miss-c32']?.cpuMsPerRequest, workloads.modelgate?.['miss-c32']?.cpuMsPerRequest),
    },
  };
}

export function formatCacheReport(results: CacheBenchResults): string {
  const row = (id: string, workload: CacheWorkloadId | 'chat-c32') => {
    const measured = results.workloads[id]?.[workload];
    if (!measured) return null;
    return `| ${id} | ${workload} | ${measured.requestsPerSecond.toFixed(0)} | ${measured.p50Ms.toFixed(3)} | ${measured.cpuMsPerRequest?.toFixed(3) ?? '-'} | ${measured.errors} |`;
  };
  const rows = [
    row('floor', 'chat-c32'),
    row('modelgate-cache', 'hit-c32'),
    row('modelgate', 'miss-c1'),
    row('modelgate-cache', 'miss-c1'),
    row('modelgate', 'miss-c32'),
    row('modelgate-cache', 'miss-c32'),
  ].filter((line): line is string => line !== null);
  const { ratios, cacheCounts, machine } = results;
  return [
    `Response cache bench, ${results.date}; load average at start ${machine.loadAverageAtStart.join(' ')}, at end ${results.loadAverageAtEnd.join(' ')}`,
    '',
    '| target | workload | req/s | p50 ms | CPU ms/req | errors |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `Exact hit c32 vs bare proxy c32, throughput: ${ratios.hitThroughputVsFloor}x (goal >= 1)`,
    `Miss with the cache on vs off, CPU per request: c1 ${ratios.missCpuC1}x, c32 ${ratios.missCpuC32}x (goal <= 1.05)`,
    `Cache target counted ${cacheCounts.hits} exact hits, ${cacheCounts.misses} misses, ${cacheCounts.stores} stores`,
  ].join('\n');
}

export function writeCacheResults(results: CacheBenchResults, directory: string, name: string): string {
  return writeJsonResults(results, directory, name);
}
