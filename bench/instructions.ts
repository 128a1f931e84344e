/**
 * `npm run bench -- --instructions`: CPU instructions per request, counted by valgrind's callgrind in the
 * Modelgate process. Wall-clock CPU time per request varies 10-30 % (at times 2-3x) between back-to-back
 * runs on these shared machines; an instruction count of the same code, inputs and environment varies
 * by a few percent whatever else the machine does, so it resolves before/after differences of 5 %.
 *
 * Per target and concurrency: Modelgate starts under `valgrind --tool=callgrind --instr-atstart=no` (so
 * start-up runs uninstrumented and quickly), gets `warmup` chat requests (its JIT settles: see below), then
 * instrumentation is switched on (`callgrind_control -i on`); `idle` seconds with no request, dumped in two
 * halves, give the background rate (timers, polls; the quieter half's, so that a burst is not subtracted);
 * then `requests` chat requests through autocannon and a second dump. Instructions per request = (load dump
 * − background rate × load duration) / requests.
 * Kernel time (syscalls) is not counted, only user-space instructions: the same syscalls per request show
 * in `strace -c`, compare them there.
 *
 * Targets: `modelgate` (defaults, master key), `managed` (the same, called with a managed key that has one
 * rate limit and one budget: issue 11's figure), `baseline` (Modelgate from the checkout of --baseline, master
 * key), `cache-hit` (Modelgate with the exact cache on: every request is the same, so all but the first are
 * hits that never call the upstream: issue 10's figure), `miss` and `cache-miss` (Modelgate with the cache off and
 * on, every request different, so every lookup misses and every answer is stored: issue 10's miss figure; the
 * LRU fills during the warm-up, so the counted stores evict), `floor` (the bare Node proxy, bench/bare-proxy.ts).
 * Ratios: managed/modelgate, modelgate/baseline, cache-hit/floor, cache-miss/miss and modelgate/floor, for the
 * targets run.
 * Options: --targets=modelgate,managed (default), --connections=1,32 (default), --requests=3000,
 * --warmup=15000, --idle=10 (seconds), --rounds=3 (fresh processes per target and concurrency; the lowest count
 * is kept), --baseline=<checkout>, --modelgate-env=K=V,..., --baseline-env=K=V,... (as in the main bench),
 * --dumps=<dir> (keeps each round's load-window callgrind file there, `<target>-c<N>-round<R>.callgrind`).
 * Writes bench/results/instructions.json. valgrind must be installed (it is on every machine kind here).
 *
 * Caveat: under valgrind the JIT tiers up at other moments than at full speed, and its decisions can differ.
 * Seen here: process.nextTick's object literal took V8's slow runtime path (Runtime_DefineKeyedOwnPropertyIn-
 * Literal, about 1,300 instructions per property, some 67,000 per request) in some processes and not in others
 * of the same configuration, and came and went with unrelated changes to the code's timing; a CPU profile at
 * full speed showed no such cost. Such a slow path only adds, hence several rounds and the lowest count kept.
 * When a difference looks too large, compare the dumps with callgrind_annotate.
 *
 * Warm-up: V8 compiles the request path with Maglev within the first thousand requests but tiers it up to
 * TurboFan only after some 9,000 to 12,000 (seen with --trace-opt at full speed: about 95 functions of the
 * request path, from usageRow to readableAddChunkPushByteMode, reached TURBOFAN_JS in the fourth 3,000-request
 * batch). With 1,000 warm-up requests the counted window ran Maglev code and paid for TurboFan's compile
 * threads (callgrind counts every thread: 17 % of a cache-hit window was OptimizingCompileTask). 15,000
 * warm-up requests count the steady state: cache hits 497 k -> 371 k instructions per request, the floor
 * 402 k -> 321 k.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type RequestSpec, runThroughput } from './load.ts';
import { createManagedBenchKey } from './managed-key.ts';
import { writeJsonResults } from './measured-run.ts';
import { metricSum } from './metric-sum.ts';
import { benchModel, startMockUpstream } from './mock-upstream.ts';
import { benchDirectory } from './paths.ts';
import { machineInfo } from './report.ts';
import { type BenchSettings, quickSettings, settingsFromArguments } from './settings.ts';
import { targetDefinitions } from './target-definitions.ts';
import { freePort, type RunningTarget, startTarget, type TargetDefinition } from './targets.ts';

const run = promisify(execFile);

export const instructionTargets = ['modelgate', 'managed', 'baseline', 'cache-hit', 'miss', 'cache-miss', 'floor'] as const;
export type InstructionTarget = (typeof instructionTargets)[number];

export interface InstructionSettings {
  targets: InstructionTarget[];
  connections: number[];
  requests: number;
  warmup: number;
  idleSeconds: number;
  /** Fresh processes per target and concurrency. */
  rounds: number;
  /** --dumps=<dir>: where each round's load-window callgrind file is kept (for callgrind_annotate); none by default. */
  dumpsDirectory?: string;
  /** --baseline, --modelgate-env and --baseline-env, as the main bench reads them. */
  targetSettings: Pick<BenchSettings, 'baselineDirectory' | 'modelgateEnv' | 'baselineEnv'>;
}

export interface InstructionRun {
  target: InstructionTarget;
  connections: number;
  requests: number;
  errors: number;
  loadSeconds: number;
  /** Instructions per second with no request (timers, polls), from the idle window. */
  backgroundPerSecond: number;
  /** All instructions of the load window. */
  loadInstructions: number;
  perRequest: number;
  /** cache-hit only: exact hits counted by the target's /metrics over the whole process (warm-up included). */
  cacheHits?: number;
}

export interface InstructionResults {
  date: string;
  machine: ReturnType<typeof machineInfo>;
  settings: InstructionSettings;
  /** Each target's lowest count per concurrency. */
  runs: InstructionRun[];
  /** Every round's. */
  allRuns: InstructionRun[];
  /** `<target>/<reference>.c<connections>` -> ratio of instructions per request. */
  ratios: Record<string, number>;
}

/** The ratios reported, numerator over denominator, where both targets ran. */
const ratioPairs: [InstructionTarget, InstructionTarget][] = [
  ['managed', 'modelgate'],
  ['modelgate', 'baseline'],
  ['cache-hit', 'floor'],
  ['cache-miss', 'miss'],
  ['modelgate', 'floor'],
];

/**
 * The definition a target runs from (cache-hit is Modelgate with the exact cache on). Every Modelgate target
 * runs with STARTUP_GC=false: the count is about the request path, and under callgrind the after-start GC
 * (src/core/after-start.ts) made the counts 15,000 requests later vary from 510,684 to 1,109,478 per request
 * where the same build without it counted 581,886-590,038 (2026-12-04, docs/benchmarks.md). Checkouts older
 * than that setting ignore it.
 */
function definitionOf(target: InstructionTarget, definitions: Record<string, TargetDefinition>): TargetDefinition {
  const found = definitions[target === 'floor' || target === 'baseline' ? target : 'modelgate'];
  if (!found) throw new Error('bench: --targets=baseline needs --baseline=<checkout>');
  const base = target === 'floor' ? found : { ...found, env: { STARTUP_GC: 'false', ...found.env } };
  if (target !== 'cache-hit' && target !== 'cache-miss') return base;
  return { ...base, env: { ...base.env, RESPONSE_CACHE_SIMPLE_ENABLED: 'true', SQLITE_PATH: `${base.env.SQLITE_PATH}.${target}.db` } };
}

/** A different request every time, of the same shape for `miss` and `cache-miss`. */
function missBodies(): () => string {
  let counter = 0;
  return () => JSON.stringify({ model: benchModel, messages: [{ role: 'user', content: `Say hello. ${++counter}` }] });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether valgrind and callgrind_control can be run here. */
export async function hasCallgrind(): Promise<boolean> {
  try {
    await run('valgrind', ['--version']);
    await run('callgrind_control', ['--version']);
    return true;
  } catch {
    return false;
  }
}

/** `totals:` (or, without it, `summary:`) of a callgrind output file. */
export function callgrindTotal(text: string): number {
  const totals = /^totals:\s+(\d+)/m.exec(text) ?? /^summary:\s+(\d+)/m.exec(text);
  if (!totals?.[1]) throw new Error('bench: no totals in a callgrind output file');
  return Number(totals[1]);
}

/**
 * callgrind_control reaches the process through vgdb's files in the temporary directory, named after USER and
 * HOST as the target saw them (HOST is also Modelgate's listen address): it runs with the target's values.
 */
const control = (target: RunningTarget, ...args: string[]) => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['USER', 'HOST']) {
    const value = target.definition.env[name];
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return run('callgrind_control', [...args, String(target.pid)], { env });
};

/** One target at one concurrency: a fresh process, warm-up, idle window, load window. */
async function measure(
  target: InstructionTarget,
  definition: TargetDefinition,
  connections: number,
  settings: InstructionSettings,
  directory: string,
  round: number,
): Promise<InstructionRun> {
  const id = `${target}-c${connections}`;
  const outFile = join(directory, `${id}.callgrind`);
  const instrumented = await startTarget(
    { ...definition, id },
    {
      logDirectory: directory,
      startTimeoutMs: 240_000,
      wrapper: ['valgrind', '--tool=callgrind', '--instr-atstart=no', '--smc-check=all-non-file', `--callgrind-out-file=${outFile}`],
    },
  );
  try {
    const headers =
      target === 'managed' ? { authorization: `Bearer ${await createManagedBenchKey(instrumented.url)}` } : definition.headers;
    const spec: RequestSpec = {
      url: instrumented.url,
      path: '/v1/chat/completions',
      headers,
      body: JSON.stringify({ model: benchModel, messages: [{ role: 'user', content: 'Say hello.' }] }),
      ...(target === 'miss' || target === 'cache-miss' ? { bodyFor: missBodies() } : {}),
    };
    if (settings.warmup > 0) await runThroughput(spec, { connections, amount: settings.warmup });
    await control(instrumented, '-i', 'on');
    // The idle window in two halves, each dumped; the quieter half's rate is the background. A burst in one
    // half (a late compile job, a major GC, a periodic task) would otherwise be subtracted from the whole
    // load window: seen once, a 24.5 M/s idle rate instead of about 1 M/s, and a count 22 % too low.
    const idleRates: number[] = [];
    let mark = performance.now();
    for (let half = 1; half <= 2; half++) {
      await sleep(settings.idleSeconds * 500);
      await control(instrumented, '-d');
      const now = performance.now();
      idleRates.push(callgrindTotal(readFileSync(`${outFile}.${half}`, 'utf8')) / Math.max(0.001, (now - mark) / 1000));
      mark = now;
    }
    const started = performance.now();
    const load = await runThroughput(spec, { connections, amount: settings.requests });
    const loadSeconds = (performance.now() - started) / 1000;
    await control(instrumented, '-d');
    const loadInstructions = callgrindTotal(readFileSync(`${outFile}.3`, 'utf8'));
    if (settings.dumpsDirectory) copyFileSync(`${outFile}.3`, join(settings.dumpsDirectory, `${id}-round${round}.callgrind`));
    const backgroundPerSecond = settings.idleSeconds > 0 ? Math.min(...idleRates) : 0;
    let cacheHits: number | undefined;
    if (target === 'cache-miss') {
      const metrics = await (await fetch(`${instrumented.url}/metrics`, { headers: definition.headers })).text();
      const misses = metricSum(metrics, 'modelgate_cache_requests_total', 'result="miss"');
      if (misses < settings.requests)
        throw new Error(`bench: the cache-miss target counted only ${misses} misses for ${settings.requests} requests`);
    }
    if (target === 'cache-hit') {
      const metrics = await (await fetch(`${instrumented.url}/metrics`, { headers: definition.headers })).text();
      cacheHits = metricSum(metrics, 'modelgate_cache_requests_total', 'result="hit_exact"');
      if (cacheHits < settings.requests)
        throw new Error(`bench: the cache-hit target counted only ${cacheHits} exact hits for ${settings.requests} requests`);
    }
    return {
      target,
      connections,
      requests: load.count,
      errors: load.errors,
      loadSeconds: Number(loadSeconds.toFixed(2)),
      backgroundPerSecond: Math.round(backgroundPerSecond),
      loadInstructions,
      perRequest: Math.round((loadInstructions - backgroundPerSecond * loadSeconds) / settings.requests),
      ...(cacheHits === undefined ? {} : { cacheHits }),
    };
  } finally {
    await instrumented.stop();
  }
}

export async function runInstructionBench(
  settings: InstructionSettings,
  log: (line: string) => void = () => {},
): Promise<InstructionResults> {
  const directory = mkdtempSync(join(tmpdir(), 'modelgate-bench-instructions-'));
  const upstream = await startMockUpstream({ port: await freePort(), streamChunks: quickSettings.streamChunks });
  try {
    const definitions = await targetDefinitions(upstream.port, directory, { ...quickSettings, ...settings.targetSettings });
    const all: InstructionRun[] = [];
    // Rounds alternate the targets; each target keeps its lowest count (see the caveat above: the JIT's slow paths only add).
    for (const connections of settings.connections) {
      for (let round = 1; round <= settings.rounds; round++) {
        for (const target of settings.targets) {
          const result = await measure(target, definitionOf(target, definitions), connections, settings, directory, round);
          all.push(result);
          log(
            `  round ${round}  ${target.padEnd(10)} c${String(connections).padEnd(3)} ${String(result.perRequest).padStart(10)} instructions/request` +
              `  (${result.requests} requests in ${result.loadSeconds} s, ${result.errors} errors, background ${result.backgroundPerSecond}/s)`,
          );
        }
      }
    }
    const runs = settings.targets.flatMap((target) =>
      settings.connections.map(
        (connections) =>
          all
            .filter((run) => run.target === target && run.connections === connections)
            .sort((left, right) => left.perRequest - right.perRequest)[0] as InstructionRun,
      ),
    );
    const ratios: Record<string, number> = {};
    for (const [numerator, denominator] of ratioPairs) {
      for (const connections of settings.connections) {
        const top = runs.find((run) => run.target === numerator && run.connections === connections);
        const bottom = runs.find((run) => run.target === denominator && run.connections === connections);
        if (top && bottom) ratios[`${numerator}/${denominator}.c${connections}`] = Number((top.perRequest / bottom.perRequest).toFixed(3));
      }
    }
    return { date: new Date().toISOString(), machine: machineInfo(), settings, runs, allRuns: all, ratios };
  } finally {
    await upstream.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

export function formatInstructionReport(results: InstructionResults): string {
  const lines = ['Instructions per request (callgrind, user space, background subtracted)'];
  for (const run of results.runs)
    lines.push(`  ${run.target.padEnd(10)} c${String(run.connections).padEnd(3)} ${String(run.perRequest).padStart(10)}`);
  lines.push('', 'Ratios (same run)');
  for (const [name, value] of Object.entries(results.ratios)) lines.push(`  ${name.padEnd(32)} ${value.toFixed(3)}`);
  return lines.join('\n');
}

const list = (value: string | undefined) => (value ?? '').split(',').filter((item) => item !== '');

export async function runInstructionsCommand(args: Map<string, string>): Promise<void> {
  if (!(await hasCallgrind())) {
    process.stderr.write('bench --instructions needs valgrind (apt-get install -y valgrind)\n');
    process.exitCode = 1;
    return;
  }
  const targets = list(args.get('targets') ?? (args.has('baseline') ? 'modelgate,baseline' : 'modelgate,managed'));
  const unknown = targets.filter((target) => !(instructionTargets as readonly string[]).includes(target));
  if (unknown.length > 0)
    throw new Error(`bench: unknown --targets for --instructions: ${unknown.join(', ')} (known: ${instructionTargets.join(', ')})`);
  const settings: InstructionSettings = {
    targets: targets as InstructionTarget[],
    connections: list(args.get('connections') ?? '1,32').map(Number),
    requests: Number(args.get('requests') ?? 3000),
    warmup: Number(args.get('warmup') ?? 15000),
    idleSeconds: Number(args.get('idle') ?? 10),
    rounds: Number(args.get('rounds') ?? 3),
    ...(args.get('dumps') ? { dumpsDirectory: resolve(args.get('dumps') as string) } : {}),
    targetSettings: settingsFromArguments(args, join(benchDirectory, 'results')),
  };
  if (settings.dumpsDirectory) mkdirSync(settings.dumpsDirectory, { recursive: true });
  const results = await runInstructionBench(settings, (line) => process.stdout.write(`${line}\n`));
  process.stdout.write(`\n${formatInstructionReport(results)}\n`);
  process.stdout.write(`\nWrote ${writeJsonResults(results, join(benchDirectory, 'results'), 'instructions')}\n`);
}
