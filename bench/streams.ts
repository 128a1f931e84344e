/**
 * The streams workload (issue 15): many long streams open at once, as a gateway in front of real models
 * mostly holds. The mock upstream streams one token every `intervalMs` for `chunks` tokens (model
 * `benchSlowModel`); `streams` clients start within `rampMs` and each records when every SSE event arrives.
 * Reported per target and level: completed streams and errors, the inter-chunk gaps (p50/p99, to compare with
 * direct's), time to first event, the target's peak RSS while the streams were open and its CPU time per
 * relayed chunk.
 */
import { Agent, request } from 'undici';
import { percentile } from './load.ts';
import { benchSlowModel } from './mock-upstream.ts';

export interface StreamsLevelResult {
  streams: number;
  completed: number;
  errors: number;
  /** Time between consecutive events of one stream, over every stream (the upstream's interval plus delays). */
  gapP50Ms: number;
  gapP99Ms: number;
  gapMaxMs: number;
  timeToFirstEventP50Ms: number;
  /** Highest RSS of the target process sampled while the streams ran (MB); NaN for direct. */
  peakRssMb: number;
  /** CPU time of the target process per relayed content chunk (ms), when measured. */
  cpuMsPerChunk?: number;
  durationMs: number;
}

export interface StreamsOptions {
  streams: number;
  intervalMs: number;
  chunks: number;
  /** Clients start spread over this time, as traffic arrives, not all in one instant. */
  rampMs: number;
  /** Gives up on a stream after this long. */
  timeoutMs: number;
}

export interface StreamsTarget {
  url: string;
  headers: Record<string, string>;
  /** The target process's RSS now (MB), sampled while the streams run. */
  rssMb?: () => number;
  /** The target process's CPU time so far (ms). */
  cpuMs?: () => number;
}

export function streamsBody(chunks: number, intervalMs: number): string {
  return JSON.stringify({
    model: benchSlowModel,
    messages: [{ role: 'user', content: `Stream ${chunks} tokens, one every ${intervalMs} ms.` }],
    max_tokens: chunks,
    stream: true,
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One stream: the arrival time of each SSE event (`\n\n`-terminated), and whether it ended with [DONE]. */
async function oneStream(
  dispatcher: Agent,
  target: StreamsTarget,
  body: string,
  timeoutMs: number,
  gaps: number[],
  firstEvents: number[],
): Promise<boolean> {
  const startedAt = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  const response = await request(`${target.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { ...target.headers, 'content-type': 'application/json' },
    body,
    dispatcher,
    signal,
  });
  if (response.statusCode !== 200) {
    await response.body.dump();
    return false;
  }
  let last = -1;
  let tail = '';
  let done = false;
  for await (const piece of response.body) {
    const now = performance.now();
    const text = tail + (piece as Buffer).toString('latin1');
    let events = 0;
    let index = text.indexOf('\n\n');
    let start = 0;
    while (index >= 0) {
      events++;
      if (text.startsWith('data: [DONE]', start)) done = true;
      start = index + 2;
      index = text.indexOf('\n\n', start);
    }
    tail = text.slice(start);
    for (let event = 0; event < events; event++) {
      if (last < 0) firstEvents.push(now - startedAt);
      else gaps.push(event === 0 ? now - last : 0);
      last = now;
    }
  }
  return done;
}

/** Runs `options.streams` concurrent streams against one target and summarises them. */
export async function runStreamsLevel(target: StreamsTarget, options: StreamsOptions): Promise<StreamsLevelResult> {
  const dispatcher = new Agent({ connections: null, pipelining: 1, keepAliveTimeout: 1000, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
  const body = streamsBody(options.chunks, options.intervalMs);
  const gaps: number[] = [];
  const firstEvents: number[] = [];
  let peakRssMb = Number.NaN;
  const sampler = target.rssMb
    ? setInterval(() => {
        const rss = (target.rssMb as () => number)();
        if (!(rss <= peakRssMb)) peakRssMb = rss;
      }, 100)
    : undefined;
  const cpuBefore = target.cpuMs?.();
  const startedAt = performance.now();
  let completed = 0;
  let errors = 0;
  const runs: Promise<void>[] = [];
  for (let index = 0; index < options.streams; index++) {
    const delay = (index * options.rampMs) / options.streams;
    runs.push(
      sleep(delay)
        .then(() => oneStream(dispatcher, target, body, options.timeoutMs, gaps, firstEvents))
        .then(
          (ok) => {
            if (ok) completed++;
            else errors++;
          },
          () => {
            errors++;
          },
        ),
    );
  }
  await Promise.all(runs);
  const durationMs = performance.now() - startedAt;
  if (sampler) clearInterval(sampler);
  if (target.rssMb) peakRssMb = Math.max(Number.isNaN(peakRssMb) ? 0 : peakRssMb, target.rssMb());
  await dispatcher.close();
  const sortedGaps = Float64Array.from(gaps).sort();
  const sortedFirst = Float64Array.from(firstEvents).sort();
  const result: StreamsLevelResult = {
    streams: options.streams,
    completed,
    errors,
    gapP50Ms: round(percentile(sortedGaps, 0.5)),
    gapP99Ms: round(percentile(sortedGaps, 0.99)),
    gapMaxMs: round(sortedGaps.length > 0 ? (sortedGaps[sortedGaps.length - 1] as number) : Number.NaN),
    timeToFirstEventP50Ms: round(percentile(sortedFirst, 0.5)),
    peakRssMb: round(peakRssMb, 1),
    durationMs: Math.round(durationMs),
  };
  if (cpuBefore !== undefined && target.cpuMs && completed > 0) {
    result.cpuMsPerChunk = round((target.cpuMs() - cpuBefore) / (completed * options.chunks), 4);
  }
  return result;
}

function round(value: number, digits = 3): number {
  return Number.isFinite(value) ? Number(value.toFixed(digits)) : Number.NaN;
}
