/** What one workload run measures and how long: the settings, the full and quick presets and the command-line options. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResults } from './report.ts';

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

/**
 * The settings of a workload run from the command line (`--quick`, `--targets`, `--rounds`, `--duration`,
 * `--streams`, `--baseline`, `--modelgate-env`, `--baseline-env`, `--modelgate-managed-key`, `--cpu-prof`;
 * documented in bench/run.ts). `--cpu-prof` creates the profile directory under `resultsDirectory`.
 */
export function settingsFromArguments(args: Map<string, string>, resultsDirectory: string): BenchSettings {
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
    settings.streamsLevels = (args.get('streams') ?? '')
      .split(',')
      .map(Number)
      .filter((level) => level > 0);
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
  if (args.has('cpu-prof')) {
    settings.cpuProfileDirectory = join(resultsDirectory, 'profiles');
    mkdirSync(settings.cpuProfileDirectory, { recursive: true });
  }
  return settings;
}
