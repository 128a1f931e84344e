/** The main workload run: chat and streaming throughput, time to first byte and added latency, target by target. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle } from '../scripts/build.ts';
import { type RequestSpec, runPairedLatency, runStreamProbe, runThroughput, type ThroughputResult } from './load.ts';
import { createManagedBenchKey } from './managed-key.ts';
import { benchModel } from './mock-upstream.ts';
import { bundleFile } from './paths.ts';
import { type BenchResults, compare, machineInfo, type TargetResult, type WorkloadId, workloadIds } from './report.ts';
import { allTargetIds, type BenchSettings } from './settings.ts';
import { runStreamsWorkload } from './streams-runner.ts';
import { targetDefinitions } from './target-definitions.ts';
import { freePort, type RunningTarget, startTarget, type TargetDefinition } from './targets.ts';

function chatBody(stream: boolean): string {
  return JSON.stringify({
    model: benchModel,
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'Say hello in one short sentence.' },
    ],
    max_tokens: 64,
    ...(stream ? { stream: true } : {}),
  });
}

function workloadSpec(running: RunningTarget, stream: boolean): RequestSpec {
  return { url: running.url, path: '/v1/chat/completions', headers: running.definition.headers, body: chatBody(stream) };
}

/** One autocannon run against one target, with the target process's CPU time per request. */
async function measureWorkload(running: RunningTarget, workload: WorkloadId, settings: BenchSettings): Promise<ThroughputResult> {
  const [kind, concurrency] = workload.split('-c');
  const spec = workloadSpec(running, kind === 'stream');
  const connections = Number(concurrency);
  if (settings.requestsPerRun !== undefined) {
    return runThroughput(spec, { connections, amount: settings.requestsPerRun });
  }
  await runThroughput(spec, { connections, durationSeconds: settings.warmupSeconds });
  const cpuBefore = running.cpuMs();
  const measured = await runThroughput(spec, { connections, durationSeconds: settings.durationSeconds });
  const requests = measured.count + measured.errors;
  if (requests > 0) measured.cpuMsPerRequest = Number(((running.cpuMs() - cpuBefore) / requests).toFixed(4));
  return measured;
}

async function probeStreaming(running: RunningTarget, settings: BenchSettings, log: (line: string) => void) {
  const results: TargetResult['streaming'] = {};
  for (const concurrency of settings.concurrencies) {
    const requests = settings.requestsPerRun ?? Math.max(settings.streamProbeRequests, concurrency * 20);
    const probe = await runStreamProbe(workloadSpec(running, true), {
      requests,
      concurrency,
      warmup: settings.requestsPerRun === undefined ? Math.min(200, requests) : Math.min(concurrency, requests),
      maxSeconds: settings.streamProbeMaxSeconds,
    });
    results[concurrency === 1 ? 'c1' : 'c32'] = probe;
    log(
      `  ${running.definition.id.padEnd(10)} ttfb-c${String(concurrency).padEnd(6)} TTFB p50 ${probe.timeToFirstByte.p50Ms.toFixed(3)} ms  TTLB p50 ${probe.timeToLastByte.p50Ms.toFixed(3)} ms  (${probe.requests} requests, errors ${probe.errors})`,
    );
  }
  return results;
}

export interface BenchRunOptions {
  log?: (line: string) => void;
}

/**
 * A first start of a new build compiles the bundle and writes its code cache once it is listening
 * (src/bundle-entry/code-cache-loader.ts); every later start reads the cache. The bundle's cold start is
 * measured on such a later start, as a restarted replica sees it: one priming start writes the cache, then its
 * database goes, so that the measured start creates and migrates a new one like every other target.
 */
async function primeBundle(definition: TargetDefinition, workDirectory: string, log: (line: string) => void): Promise<void> {
  const priming = await startTarget(definition, { logDirectory: workDirectory, settleMs: 1_000 });
  log(`${definition.label}: first start of this build (compiles, writes the code cache) ready in ${priming.coldStartMs.toFixed(0)} ms`);
  await priming.stop();
  removeDatabase(definition);
}

/** Removes a target's SQLite database, so that its next start creates and migrates a new one. */
function removeDatabase(definition: TargetDefinition): void {
  const database = definition.env.SQLITE_PATH;
  if (database) for (const suffix of ['', '-wal', '-shm']) rmSync(`${database}${suffix}`, { force: true });
}

/** Starts per target: one start's time varies by 30 ms or more on this machine, so the median of these is reported. */
const coldStartSamples = 3;

/**
 * Starts `definition` `coldStartSamples` times (each on a new database), keeps the last start running and
 * returns it with the median of the starts' times; idle RSS is the last start's.
 */
async function startMeasured(
  definition: TargetDefinition,
  startOptions: { logDirectory: string },
): Promise<{ target: RunningTarget; coldStartMs: number; samples: number[] }> {
  const samples: number[] = [];
  for (let sample = 1; sample < coldStartSamples; sample++) {
    const started = await startTarget(definition, startOptions);
    samples.push(started.coldStartMs);
    await started.stop();
    removeDatabase(definition);
  }
  const target = await startTarget(definition, startOptions);
  samples.push(target.coldStartMs);
  const sorted = [...samples].sort((left, right) => left - right);
  return { target, coldStartMs: sorted[Math.floor(sorted.length / 2)] as number, samples };
}

/**
 * Starts every selected target (one at a time, so each cold start is measured alone; the median of
 * `coldStartSamples` starts), then runs each
 * workload against every target in turn, for `rounds` rounds in alternating order, keeping per
 * target the round with the best throughput: background load on a shared machine only ever slows a
 * run down. Streaming time-to-first-byte probes follow. Nothing is written.
 */
export async function runBench(settings: BenchSettings, options: BenchRunOptions = {}): Promise<BenchResults> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const machine = machineInfo();
  const workDirectory = mkdtempSync(join(tmpdir(), 'modelgate-bench-'));
  const upstreamPort = await freePort();
  const definitionsById = await targetDefinitions(upstreamPort, workDirectory, settings);
  const startOptions = { logDirectory: workDirectory };
  for (const id of settings.targets) {
    if (!definitionsById[id]) throw new Error(`unknown bench target '${id}' (known: ${allTargetIds.join(', ')}, baseline with --baseline)`);
  }
  if (settings.targets.includes('bundle')) {
    const built = await buildBundle(bundleFile);
    log(`Built ${built.outfile} (${(built.bytes / 1024).toFixed(0)} KiB)`);
    await primeBundle(definitionsById.bundle as TargetDefinition, workDirectory, log);
  }
  const running = new Map<string, RunningTarget>();
  const results = new Map<string, TargetResult>();
  const upstream = await startTarget(definitionsById.direct as TargetDefinition, startOptions);
  try {
    for (const id of settings.targets) {
      // The upstream runs from the start (every target needs it): its start is measured once.
      const measured =
        id === 'direct'
          ? { target: upstream, coldStartMs: upstream.coldStartMs, samples: [upstream.coldStartMs] }
          : await startMeasured(definitionsById[id] as TargetDefinition, startOptions);
      const target = measured.target;
      if (id === 'modelgate' && settings.modelgateManagedKey) {
        target.definition.headers = { authorization: `Bearer ${await createManagedBenchKey(target.url)}` };
        log('modelgate: called with a managed key (one rate limit, one budget)');
      }
      running.set(id, target);
      log(
        `${target.definition.label}: ready in ${measured.coldStartMs.toFixed(0)} ms (median of ${measured.samples.map((ms) => ms.toFixed(0)).join(', ')}), idle RSS ${target.idleRssMb.toFixed(1)} MB`,
      );
      results.set(id, {
        id,
        label: target.definition.label,
        coldStartMs: Number(measured.coldStartMs.toFixed(1)),
        idleRssMb: Number(target.idleRssMb.toFixed(1)),
        peakRssMb: Number.NaN,
        workloads: {},
        streaming: {},
      });
    }
    const rounds = settings.requestsPerRun === undefined ? settings.rounds : 1;
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? settings.targets : [...settings.targets].reverse();
      log(`Round ${round + 1} of ${rounds}`);
      for (const workload of workloadIds) {
        if (!settings.concurrencies.includes(Number(workload.split('-c')[1]))) continue;
        for (const id of order) {
          const target = running.get(id) as RunningTarget;
          const result = results.get(id) as TargetResult;
          const measured = await measureWorkload(target, workload, settings);
          log(
            `  ${id.padEnd(10)} ${workload.padEnd(11)} ${measured.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${measured.p50Ms.toFixed(3)} ms  p99 ${measured.p99Ms.toFixed(3)} ms  cpu/req ${measured.cpuMsPerRequest?.toFixed(3) ?? '-'} ms  errors ${measured.errors}`,
          );
          const best = result.workloads[workload];
          if (!best || measured.requestsPerSecond > best.requestsPerSecond) result.workloads[workload] = measured;
        }
      }
    }
    log('Streaming time to first byte');
    for (const id of settings.targets) {
      const target = running.get(id) as RunningTarget;
      const result = results.get(id) as TargetResult;
      result.streaming = await probeStreaming(target, settings, log);
    }
    log('Added latency, chat at concurrency 1, in alternating pairs with direct');
    for (const id of settings.targets) {
      if (id === 'direct') continue;
      const target = running.get(id) as RunningTarget;
      const result = results.get(id) as TargetResult;
      const paired = await runPairedLatency(workloadSpec(upstream, false), workloadSpec(target, false), {
        durationSeconds: settings.requestsPerRun === undefined ? settings.pairedSeconds : 60,
        warmup: settings.requestsPerRun === undefined ? 200 : 2,
        ...(settings.requestsPerRun === undefined ? {} : { maxPairs: settings.requestsPerRun }),
      });
      result.pairedLatency = paired;
      log(
        `  ${id.padEnd(10)} pairs ${paired.pairs}  direct p50 ${paired.direct.p50Ms.toFixed(3)} ms  target p50 ${paired.target.p50Ms.toFixed(3)} ms  added p50 ${paired.addedP50Ms.toFixed(3)} ms  errors ${paired.errors}`,
      );
    }
    await runStreamsWorkload(settings, running, results, log);
    for (const id of settings.targets) {
      const result = results.get(id) as TargetResult;
      result.peakRssMb = Number((running.get(id) as RunningTarget).memory().peakRssMb.toFixed(1));
    }
  } finally {
    for (const [id, target] of running) if (id !== 'direct') await target.stop();
    await upstream.stop();
  }
  rmSync(workDirectory, { recursive: true, force: true });
  const targets = settings.targets.map((id) => results.get(id) as TargetResult);
  const { ratios, goals } = compare(targets);
  const { cpuProfileDirectory: _profiles, ...recordedSettings } = settings;
  return {
    date: new Date().toISOString(),
    mode: settings.mode,
    machine,
    settings: recordedSettings,
    targets,
    ratios,
    goals,
  };
}
