/**
 * One measured autocannon run against a target process, shared by the focused workloads (bench/cache.ts,
 * bench/guardrails.ts): a warm-up run, then the measured one with the target's CPU time per request; with
 * `requestsPerRun` (smoke tests) one fixed-size run instead. And their results as a JSON file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RequestSpec, runThroughput, type ThroughputResult } from './load.ts';
import type { RunningTarget } from './targets.ts';

export interface MeasuredRunSettings {
  durationSeconds: number;
  warmupSeconds: number;
  requestsPerRun?: number;
}

export async function measureRun(
  target: RunningTarget,
  spec: RequestSpec,
  connections: number,
  settings: MeasuredRunSettings,
): Promise<ThroughputResult> {
  if (settings.requestsPerRun !== undefined) return runThroughput(spec, { connections, amount: settings.requestsPerRun });
  await runThroughput(spec, { connections, durationSeconds: settings.warmupSeconds });
  const cpuBefore = target.cpuMs();
  const measured = await runThroughput(spec, { connections, durationSeconds: settings.durationSeconds });
  const requests = measured.count + measured.errors;
  if (requests > 0) measured.cpuMsPerRequest = Number(((target.cpuMs() - cpuBefore) / requests).toFixed(4));
  return measured;
}

/** Writes `<directory>/<name>.json`; returns its path. */
export function writeJsonResults(results: unknown, directory: string, name: string): string {
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
