/**
 * `npm run bench`: on one machine, starts an instant mock upstream, then measures in turn the
 * upstream directly, a bare Node reverse proxy (the floor), Modelgate with its default features and
 * the Portkey gateway, each as its own process. Prints a table and the ratios; writes
 * bench/results/latest.json and latest.svg.
 *
 * Options: --quick (short smoke run, writes quick.json/quick.svg), --targets=direct,floor,modelgate,portkey,
 * --duration=<seconds per workload>, --cpu-prof (profile the Modelgate process into bench/results/profiles).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runStreamProbe, runThroughput, type RequestSpec } from './load.ts';
import { benchModel, readArguments } from './mock-upstream.ts';
import {
  type BenchResults,
  compare,
  formatReport,
  machineInfo,
  renderSvg,
  type TargetResult,
  type WorkloadId,
} from './report.ts';
import { freePort, type RunningTarget, startTarget, type TargetDefinition } from './targets.ts';

const benchDirectory = dirname(fileURLToPath(import.meta.url));
const projectDirectory = resolve(benchDirectory, '..');

export const allTargetIds = ['direct', 'floor', 'modelgate', 'portkey'] as const;

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
  cpuProfileDirectory?: string;
}

export const fullSettings: BenchSettings = {
  mode: 'full',
  targets: [...allTargetIds],
  durationSeconds: 6,
  warmupSeconds: 1.5,
  concurrencies: [1, 32],
  streamChunks: 20,
  streamProbeRequests: 2000,
};

export const quickSettings: BenchSettings = {
  ...fullSettings,
  mode: 'quick',
  durationSeconds: 1,
  warmupSeconds: 0.3,
  streamProbeRequests: 200,
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

async function definitions(upstreamPort: number, workDirectory: string, settings: BenchSettings): Promise<Record<string, TargetDefinition>> {
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
  const modelgatePort = await freePort();
  const floorPort = await freePort();
  const portkeyPort = await freePort();
  const profileArguments = settings.cpuProfileDirectory
    ? ['--cpu-prof', `--cpu-prof-dir=${settings.cpuProfileDirectory}`]
    : [];
  return {
    direct: {
      id: 'direct',
      label: 'Direct (mock upstream)',
      nodeArguments: [join(benchDirectory, 'mock-upstream.ts'), `--port=${upstreamPort}`, `--chunks=${settings.streamChunks}`],
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
    modelgate: {
      id: 'modelgate',
      label: 'Modelgate (defaults)',
      nodeArguments: [...profileArguments, join(projectDirectory, 'src', 'main.ts')],
      env: {
        PORT: String(modelgatePort),
        HOST: '127.0.0.1',
        MODELGATE_MASTER_KEY: benchMasterKey,
        OPENAI_API_KEY: upstreamKey,
        OPENAI_BASE_URL: `${upstreamUrl}/v1`,
        SQLITE_PATH: join(workDirectory, 'modelgate.db'),
      },
      port: modelgatePort,
      readinessPath: '/health',
      headers: { authorization: `Bearer ${benchMasterKey}` },
    },
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

async function measureTarget(
  running: RunningTarget,
  settings: BenchSettings,
  log: (line: string) => void,
): Promise<TargetResult> {
  const { definition } = running;
  const result: TargetResult = {
    id: definition.id,
    label: definition.label,
    coldStartMs: Number(running.coldStartMs.toFixed(1)),
    idleRssMb: Number(running.idleRssMb.toFixed(1)),
    peakRssMb: Number.NaN,
    workloads: {},
    streaming: {},
  };
  for (const stream of [false, true]) {
    const spec: RequestSpec = { url: running.url, path: '/v1/chat/completions', headers: definition.headers, body: chatBody(stream) };
    for (const connections of settings.concurrencies) {
      const workload = `${stream ? 'stream' : 'chat'}-c${connections}` as WorkloadId;
      const run = settings.requestsPerRun;
      if (run === undefined) {
        await runThroughput(spec, { connections, durationSeconds: settings.warmupSeconds });
      }
      const measured =
        run === undefined
          ? await runThroughput(spec, { connections, durationSeconds: settings.durationSeconds })
          : await runThroughput(spec, { connections, amount: run });
      result.workloads[workload] = measured;
      log(
        `  ${definition.id.padEnd(10)} ${workload.padEnd(11)} ${measured.requestsPerSecond.toFixed(0).padStart(7)} req/s  p50 ${measured.p50Ms.toFixed(3)} ms  p99 ${measured.p99Ms.toFixed(3)} ms  errors ${measured.errors}`,
      );
    }
    if (stream) {
      for (const concurrency of settings.concurrencies) {
        const requests = settings.requestsPerRun ?? Math.max(settings.streamProbeRequests, concurrency * 20);
        const probe = await runStreamProbe(spec, {
          requests,
          concurrency,
          warmup: settings.requestsPerRun === undefined ? Math.min(200, requests) : Math.min(concurrency, requests),
        });
        result.streaming[concurrency === 1 ? 'c1' : 'c32'] = probe;
        log(
          `  ${definition.id.padEnd(10)} ttfb-c${String(concurrency).padEnd(6)} TTFB p50 ${probe.timeToFirstByte.p50Ms.toFixed(3)} ms  TTLB p50 ${probe.timeToLastByte.p50Ms.toFixed(3)} ms  errors ${probe.errors}`,
        );
      }
    }
  }
  result.peakRssMb = Number(running.memory().peakRssMb.toFixed(1));
  return result;
}

export interface BenchRunOptions {
  log?: (line: string) => void;
}

/** Runs every selected target in turn and returns the results (nothing is written). */
export async function runBench(settings: BenchSettings, options: BenchRunOptions = {}): Promise<BenchResults> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const machine = machineInfo();
  const workDirectory = mkdtempSync(join(tmpdir(), 'modelgate-bench-'));
  const upstreamPort = await freePort();
  const targetDefinitions = await definitions(upstreamPort, workDirectory, settings);
  const startOptions = { logDirectory: workDirectory };
  const direct = targetDefinitions.direct as TargetDefinition;
  const upstream = await startTarget(direct, startOptions);
  const results: TargetResult[] = [];
  try {
    for (const id of settings.targets) {
      const definition = targetDefinitions[id];
      if (!definition) throw new Error(`unknown bench target '${id}' (known: ${allTargetIds.join(', ')})`);
      log(`${definition.label}:`);
      const running = id === 'direct' ? upstream : await startTarget(definition, startOptions);
      try {
        results.push(await measureTarget(running, settings, log));
      } finally {
        if (id !== 'direct') await running.stop();
      }
    }
  } finally {
    await upstream.stop();
  }
  rmSync(workDirectory, { recursive: true, force: true });
  const { ratios, goals } = compare(results);
  const { cpuProfileDirectory: _profiles, ...recordedSettings } = settings;
  return {
    date: new Date().toISOString(),
    mode: settings.mode,
    machine,
    settings: recordedSettings,
    targets: results,
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

if (import.meta.main) {
  const args = readArguments(process.argv.slice(2));
  const quick = args.has('quick');
  const settings: BenchSettings = { ...(quick ? quickSettings : fullSettings) };
  if (args.has('targets')) {
    settings.targets = (args.get('targets') ?? '').split(',').filter(Boolean);
    settings.mode = quick ? 'quick' : 'custom';
  }
  if (args.has('duration')) {
    settings.durationSeconds = Number(args.get('duration'));
    settings.mode = 'custom';
  }
  const resultsDirectory = join(benchDirectory, 'results');
  if (args.has('cpu-prof')) {
    settings.cpuProfileDirectory = join(resultsDirectory, 'profiles');
    mkdirSync(settings.cpuProfileDirectory, { recursive: true });
  }
  const startedAt = performance.now();
  const results = await runBench(settings);
  process.stdout.write(`\n${formatReport(results)}\n`);
  const name = settings.mode === 'full' ? 'latest' : settings.mode;
  const written = writeResults(results, resultsDirectory, name);
  process.stdout.write(`\nWrote ${written.json} and ${written.svg} in ${((performance.now() - startedAt) / 1000).toFixed(0)} s\n`);
  if (settings.cpuProfileDirectory) process.stdout.write(`CPU profiles of Modelgate: ${settings.cpuProfileDirectory}\n`);
}
