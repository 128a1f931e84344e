/** The streams workload of a bench run (many slow concurrent streams, bench/streams.ts) against the running targets. */
import type { TargetResult } from './report.ts';
import type { BenchSettings } from './settings.ts';
import { runStreamsLevel } from './streams.ts';
import type { RunningTarget } from './targets.ts';

/** The streams workload at each level, against every target but Portkey (its custom-host streams are not comparable). */
export async function runStreamsWorkload(
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
