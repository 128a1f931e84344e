/**
 * `npm run bench`: on one machine, starts an instant mock upstream, then measures in turn the
 * upstream directly, a bare Node reverse proxy (the floor), Modelgate with its default features and
 * the Portkey gateway, each as its own process. Prints a table and the ratios; writes
 * bench/results/latest.json and latest.svg.
 *
 * Options: --quick (short smoke run, writes quick.json/quick.svg), --targets=direct,floor,modelgate,portkey,
 * --duration=<seconds per workload>, --rounds=<n>, --cpu-prof (profile the Modelgate process into bench/results/profiles),
 * --streams=<levels> (concurrent streams of the streams workload, e.g. 1000,4000; 0 skips it),
 * --render=<results.json> [--markdown] (print the report of a saved run, or its Markdown tables, and redraw its SVG),
 * --baseline=<checkout> (adds target `baseline`: Modelgate from another checkout, e.g. a worktree of an earlier
 * commit, measured in the same run for before/after figures), --modelgate-env=K=V,K=V (extra environment for
 * the Modelgate target, e.g. RETRY_MAX_RETRIES=0, to measure what one feature costs), --baseline-env=K=V,K=V (the same
 * for the baseline; `--baseline=. --modelgate-env=...` compares one checkout with and without a setting),
 * --modelgate-managed-key (the Modelgate target is called with a managed key that has one rate limit and one
 * budget; with `--baseline=.` the baseline keeps the master key: what governance costs per call),
 * --cache (only the response cache's workloads, bench/cache.ts: exact hits against the floor, misses with the
 * cache on against off; with --quick, --duration, --rounds).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RequestSpec, runPairedLatency, runStreamProbe, runThroughput, type ThroughputResult } from './load.ts';
import { buildBundle } from '../scripts/build.ts';
import { formatCacheReport, runCacheBench, writeCacheResults } from './cache.ts';
import { benchModel, readArguments } from './mock-upstream.ts';
import { runStreamsLevel } from './streams.ts';
import {
  type BenchResults,
  compare,
  formatMarkdown,
  formatReport,
  machineInfo,
  renderSvg,
  type TargetResult,
  type WorkloadId,
  workloadIds,
} from './report.ts';
import { freePort, type RunningTarget, startTarget, type TargetDefinition } from './targets.ts';

const benchDirectory = dirname(fileURLToPath(import.meta.url));
const projectDirectory = resolve(benchDirectory, '..');
const bundleFile = join(projectDirectory, 'dist', 'modelgate.mjs');

export const allTargetIds = ['direct', 'floor', 'modelgate', 'bundle', 'portkey'] as const;

export interface BenchSettings {
  mode: BenchResults['mode'];
  targets: string[];
  /** Seconds per measured autocannon run; ignored when `requestsPerRun` is set. */
  durationSeconds: number;
  warmupSeconds: number;
  /** A fixed request count per run instead of a duration (smoke tests). */
  requestsPerRun?: number;
  concurrencies: number[];
  streamChunks: number;
  streamProbeRequests: number;
  /** Upper bound on each streaming probe (a slow target gets fewer requests). */
  streamProbeMaxSeconds: number;
  /** Rounds over all targets, alternating order; the best round per target and workload is kept. */
  rounds: number;
  /** Seconds of paired direct/target requests per target for the added latency at concurrency 1. */
  pairedSeconds: number;
  cpuProfileDirectory?: string;
  /** Concurrent streams of the streams workload, one run per level (empty: not run). */
  streamsLevels: number[];
  /** Interval between two tokens of the streams workload's upstream, and tokens per stream. */
  streamsIntervalMs: number;
  streamsChunks: number;
  /** A checkout of Modelgate to measure beside this one as target `baseline` (before/after in one run). */
  baselineDirectory?: string;
  /** Extra environment for the Modelgate target. */
  modelgateEnv?: Record<string, string>;
  /** Extra environment for the baseline target. */
  baselineEnv?: Record<string, string>;
  /**
   * The Modelgate target is called with a managed key (created through its admin API once it is ready)
   * that has one rate limit and one budget, instead of the master key: what governance costs per call.
   */
  modelgateManagedKey?: boolean;
}

export const fullSettings: BenchSettings = {
  mode: 'full',
  targets: [...allTargetIds],
  durationSeconds: 5,
  warmupSeconds: 1,
  concurrencies: [1, 32],
  streamChunks: 20,
  streamProbeRequests: 2000,
  streamProbeMaxSeconds: 6,
  rounds: 2,
  pairedSeconds: 4,
  streamsLevels: [1000, 2000, 4000],
  streamsIntervalMs: 100,
  streamsChunks: 40,
};

export const quickSettings: BenchSettings = {
  ...fullSettings,
  mode: 'quick',
  durationSeconds: 1,
  warmupSeconds: 0.3,
  streamProbeRequests: 200,
  streamProbeMaxSeconds: 2,
  rounds: 1,
  pairedSeconds: 1,
  streamsLevels: [200],
};

export const benchMasterKey = 'bench-master-key';
const upstreamKey = 'sk-bench-upstream';

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

/**
 * Creates a managed key with a rate limit and a daily budget, both far above what a bench run spends (so
 * every call is checked, reserved and settled, none refused), and returns its secret.
 */
async function createManagedBenchKey(url: string): Promise<string> {
  const admin = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const response = await fetch(`${url}/admin/api/v1${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${benchMasterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as Record<string, unknown>;
    if (response.status !== 201) throw new Error(`bench: POST ${path} answered ${response.status}: ${JSON.stringify(answer)}`);
    return answer;
  };
  const key = await admin('/keys', { name: 'bench managed key', rate_limits: { requests_per_minute: 100_000_000 } });
  await admin('/budgets', { scope: 'key', subject: key.id, limit_usd: 1_000_000, period: 'daily' });
  return key.key as string;
}

/** How each target is started and addressed, for an upstream on `upstreamPort`. */
export async function targetDefinitions(
  upstreamPort: number,
  workDirectory: string,
  settings: BenchSettings,
): Promise<Record<string, TargetDefinition>> {
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
  const modelgatePort = await freePort();
  const floorPort = await freePort();
  const portkeyPort = await freePort();
  const modelgateDefinition = (
    id: string,
    label: string,
    entry: string,
    port: number,
    nodeFlags: string[],
    extraEnv: Record<string, string> | undefined,
  ): TargetDefinition => ({
    id,
    label,
    nodeArguments: [...nodeFlags, entry],
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      MODELGATE_MASTER_KEY: benchMasterKey,
      OPENAI_API_KEY: upstreamKey,
      OPENAI_BASE_URL: `${upstreamUrl}/v1`,
      SQLITE_PATH: join(workDirectory, `${id}.db`),
      ...extraEnv,
    },
    port,
    readinessPath: '/health',
    headers: { authorization: `Bearer ${benchMasterKey}` },
  });
  const profileArguments = settings.cpuProfileDirectory ? ['--cpu-prof', `--cpu-prof-dir=${settings.cpuProfileDirectory}`] : [];
  return {
    direct: {
      id: 'direct',
      label: 'Direct (mock upstream)',
      nodeArguments: [
        join(benchDirectory, 'mock-upstream.ts'),
        `--port=${upstreamPort}`,
        `--chunks=${settings.streamChunks}`,
        `--slow-interval=${settings.streamsIntervalMs}`,
      ],
      env: {},
      port: upstreamPort,
      readinessPath: '/health',
      headers: { authorization: `Bearer ${upstreamKey}` },
    },
    floor: {
      id: 'floor',
      label: 'Bare Node proxy (floor)',
      nodeArguments: [join(benchDirectory, 'bare-proxy.ts'), `--port=${floorPort}`, `--upstream=${upstreamUrl}`],
      env: {},
      port: floorPort,
      readinessPath: '/health',
      headers: { authorization: `Bearer ${upstreamKey}` },
    },
    modelgate: modelgateDefinition(
      'modelgate',
      'Modelgate (defaults)',
      join(projectDirectory, 'src', 'main.ts'),
      modelgatePort,
      [...profileArguments],
      settings.modelgateEnv,
    ),
    // The production bundle (scripts/build.ts), as the container image runs it; built before the run.
    bundle: modelgateDefinition('bundle', 'Modelgate (bundle)', bundleFile, await freePort(), [], settings.modelgateEnv),
    ...(settings.baselineDirectory
      ? {
          baseline: modelgateDefinition(
            'baseline',
            `Modelgate baseline (${settings.baselineDirectory})`,
            join(resolve(settings.baselineDirectory), 'src', 'main.ts'),
            await freePort(),
            [],
            settings.baselineEnv,
          ),
        }
      : {}),
    portkey: {
      id: 'portkey',
      label: 'Portkey gateway',
      nodeArguments: [
        join(projectDirectory, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js'),
        `--port=${portkeyPort}`,
        '--headless',
      ],
      env: {},
      port: portkeyPort,
      readinessPath: '/',
      // Portkey's headers for an OpenAI-compatible upstream at a custom URL:
      // https://portkey.ai/docs/api-reference/inference-api/headers (x-portkey-provider, x-portkey-custom-host).
      headers: {
        authorization: `Bearer ${upstreamKey}`,
        'x-portkey-provider': 'openai',
        'x-portkey-custom-host': `${upstreamUrl}/v1`,
      },
    },
  };
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

/** The streams workload at each level, against every target but Portkey (its custom-host streams are not comparable). */
async function runStreamsWorkload(
  settings: BenchSettings,
  running: Map<string, RunningTarget>,
  results: Map<string, TargetResult>,
  log: (line: string) => void,
): Promise<void> {
  if (settings.streamsLevels.length === 0) return;
  log(`Streams workload: one token every ${settings.streamsIntervalMs} ms, ${settings.streamsChunks} tokens per stream`);
  for (const streams of settings.streamsLevels) {
    for (const id of settings.targets) {
      if (id === 'portkey') continue;
      const target = running.get(id) as RunningTarget;
      const measured = await runStreamsLevel(
        {
          url: target.url,
          headers: target.definition.headers,
          ...(id === 'direct' ? {} : { rssMb: () => target.memory().rssMb, cpuMs: () => target.cpuMs() }),
        },
        {
          streams,
          intervalMs: settings.streamsIntervalMs,
          chunks: settings.streamsChunks,
          rampMs: 1000,
          timeoutMs: settings.streamsIntervalMs * settings.streamsChunks * 4 + 30_000,
        },
      );
      const result = results.get(id) as TargetResult;
      result.streams ??= {};
      result.streams[String(streams)] = measured;
      log(
        `  ${id.padEnd(10)} streams ${String(streams).padEnd(5)} completed ${measured.completed} errors ${measured.errors}  gap p50 ${measured.gapP50Ms.toFixed(1)} ms p99 ${measured.gapP99Ms.toFixed(1)} ms  peak RSS ${measured.peakRssMb} MB  cpu/chunk ${measured.cpuMsPerChunk?.toFixed(4) ?? '-'} ms`,
      );
    }
  }
}

export interface BenchRunOptions {
  log?: (line: string) => void;
}

/**
 * Starts every selected target (one at a time, so each cold start is measured alone), then runs each
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
  if (settings.targets.includes('bundle')) {
    const built = await buildBundle(bundleFile);
    log(`Built ${built.outfile} (${(built.bytes / 1024).toFixed(0)} KiB)`);
  }
  for (const id of settings.targets) {
    if (!definitionsById[id]) throw new Error(`unknown bench target '${id}' (known: ${allTargetIds.join(', ')}, baseline with --baseline)`);
  }
  const running = new Map<string, RunningTarget>();
  const results = new Map<string, TargetResult>();
  const upstream = await startTarget(definitionsById.direct as TargetDefinition, startOptions);
  try {
    for (const id of settings.targets) {
      const target = id === 'direct' ? upstream : await startTarget(definitionsById[id] as TargetDefinition, startOptions);
      if (id === 'modelgate' && settings.modelgateManagedKey) {
        target.definition.headers = { authorization: `Bearer ${await createManagedBenchKey(target.url)}` };
        log('modelgate: called with a managed key (one rate limit, one budget)');
      }
      running.set(id, target);
      log(`${target.definition.label}: ready in ${target.coldStartMs.toFixed(0)} ms, idle RSS ${target.idleRssMb.toFixed(1)} MB`);
      results.set(id, {
        id,
        label: target.definition.label,
        coldStartMs: Number(target.coldStartMs.toFixed(1)),
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

export function writeResults(results: BenchResults, directory: string, name: string): { json: string; svg: string } {
  mkdirSync(directory, { recursive: true });
  const json = join(directory, `${name}.json`);
  const svg = join(directory, `${name}.svg`);
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(svg, renderSvg(results));
  return { json, svg };
}

if (import.meta.main && readArguments(process.argv.slice(2)).has('render')) {
  // Re-renders the report and chart of a saved run: node bench/run.ts --render=bench/results/latest.json
  const args = readArguments(process.argv.slice(2));
  const file = args.get('render') ?? '';
  const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  process.stdout.write(`${args.has('markdown') ? formatMarkdown(results) : formatReport(results)}\n`);
  writeFileSync(file.replace(/\.json$/, '.svg'), renderSvg(results));
} else if (import.meta.main && readArguments(process.argv.slice(2)).has('cache')) {
  const args = readArguments(process.argv.slice(2));
  const quick = args.has('quick');
  const workDirectory = mkdtempSync(join(tmpdir(), 'modelgate-bench-cache-'));
  const definitions = await targetDefinitions(await freePort(), workDirectory, quick ? quickSettings : fullSettings);
  const results = await runCacheBench(
    {
      durationSeconds: Number(args.get('duration') ?? (quick ? 1 : 5)),
      warmupSeconds: quick ? 0.3 : 1,
      rounds: Number(args.get('rounds') ?? (quick ? 1 : 2)),
    },
    { definitions, workDirectory },
  );
  rmSync(workDirectory, { recursive: true, force: true });
  process.stdout.write(`\n${formatCacheReport(results)}\n`);
  process.stdout.write(`\nWrote ${writeCacheResults(results, join(benchDirectory, 'results'), quick ? 'cache-quick' : 'cache')}\n`);
} else if (import.meta.main) {
  const args = readArguments(process.argv.slice(2));
  const quick = args.has('quick');
  const settings: BenchSettings = { ...(quick ? quickSettings : fullSettings) };
  if (args.has('targets')) {
    settings.targets = (args.get('targets') ?? '').split(',').filter(Boolean);
    settings.mode = quick ? 'quick' : 'custom';
  }
  if (args.has('rounds')) {
    settings.rounds = Number(args.get('rounds'));
    settings.mode = 'custom';
  }
  if (args.has('duration')) {
    settings.durationSeconds = Number(args.get('duration'));
    settings.mode = 'custom';
  }
  if (args.has('streams')) {
    settings.streamsLevels = (args.get('streams') ?? '').split(',').map(Number).filter((level) => level > 0);
    settings.mode = quick ? 'quick' : 'custom';
  }
  if (args.has('baseline')) {
    settings.baselineDirectory = args.get('baseline') ?? '';
    if (!settings.targets.includes('baseline')) settings.targets.push('baseline');
    settings.mode = 'custom';
  }
  const envArgument = (name: string) =>
    Object.fromEntries(
      (args.get(name) ?? '')
        // A comma starts a new pair only before `NAME=`, so values may hold commas (VIRTUAL_MODELS JSON).
        .split(/,(?=[A-Z][A-Z0-9_]*=)/)
        .filter(Boolean)
        .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
    );
  if (args.has('modelgate-env')) settings.modelgateEnv = envArgument('modelgate-env');
  if (args.has('baseline-env')) settings.baselineEnv = envArgument('baseline-env');
  if (args.has('modelgate-managed-key')) settings.modelgateManagedKey = true;
  const resultsDirectory = join(benchDirectory, 'results');
  if (args.has('cpu-prof')) {
    settings.cpuProfileDirectory = join(resultsDirectory, 'profiles');
    mkdirSync(settings.cpuProfileDirectory, { recursive: true });
  }
  const startedAt = performance.now();
  const portkeyServer = join(projectDirectory, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
  if (settings.targets.includes('portkey') && !existsSync(portkeyServer)) {
    process.stderr.write('@portkey-ai/gateway is not installed (npm install, with dev dependencies): measuring without it\n');
    settings.targets = settings.targets.filter((id) => id !== 'portkey');
  }
  const results = await runBench(settings);
  process.stdout.write(`\n${formatReport(results)}\n`);
  const name = settings.mode === 'full' ? 'latest' : settings.mode;
  const written = writeResults(results, resultsDirectory, name);
  process.stdout.write(`\nWrote ${written.json} and ${written.svg} in ${((performance.now() - startedAt) / 1000).toFixed(0)} s\n`);
  if (settings.cpuProfileDirectory) process.stdout.write(`CPU profiles of Modelgate: ${settings.cpuProfileDirectory}\n`);
}
