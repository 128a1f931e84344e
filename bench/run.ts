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
 * cache on against off; with --quick, --duration, --rounds),
 * --guardrails (only the guardrails workload, bench/guardrails.ts: regex + pii guardrails on a 10 KB prompt against
 * the same checkout without them; with --quick, --duration, --rounds),
 * --instructions (only instructions per request counted by valgrind's callgrind, bench/instructions.ts: modelgate against
 * managed key + rate limit + budget, or against --baseline; --connections, --requests, --warmup, --idle).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatCacheReport, runCacheBench, writeCacheResults } from './cache.ts';
import { runGuardrailsCommand } from './guardrails.ts';
import { runInstructionsCommand } from './instructions.ts';
import { readArguments } from './mock-upstream.ts';
import { benchDirectory, portkeyServerFile } from './paths.ts';
import { type BenchResults, formatMarkdown, formatReport, renderSvg } from './report.ts';
import { fullSettings, quickSettings, settingsFromArguments } from './settings.ts';
import { targetDefinitions } from './target-definitions.ts';
import { freePort } from './targets.ts';
import { runBench } from './workload-runner.ts';
import { writeResults } from './write-results.ts';

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
} else if (import.meta.main && readArguments(process.argv.slice(2)).has('guardrails')) {
  await runGuardrailsCommand(readArguments(process.argv.slice(2)));
} else if (import.meta.main && readArguments(process.argv.slice(2)).has('instructions')) {
  await runInstructionsCommand(readArguments(process.argv.slice(2)));
} else if (import.meta.main) {
  const args = readArguments(process.argv.slice(2));
  const resultsDirectory = join(benchDirectory, 'results');
  const settings = settingsFromArguments(args, resultsDirectory);
  const startedAt = performance.now();
  if (settings.targets.includes('portkey') && !existsSync(portkeyServerFile)) {
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
