/**
 * Load generation: autocannon for throughput (with every response time recorded at sub-millisecond
 * precision, since autocannon's own histogram keeps whole milliseconds), and an undici client loop
 * for streaming time to first byte and to last byte.
 */
import { createRequire } from 'node:module';
import { Pool } from 'undici';

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
}

export interface ThroughputResult extends LatencySummary {
  requestsPerSecond: number;
  durationSeconds: number;
  /** Responses other than 2xx, plus connection errors and timeouts. */
  errors: number;
  /** CPU time the target process used per request (user + system), when measured. */
  cpuMsPerRequest?: number;
}

export interface StreamProbeResult {
  requests: number;
  errors: number;
  concurrency: number;
  requestsPerSecond: number;
  timeToFirstByte: LatencySummary;
  timeToLastByte: LatencySummary;
}

export interface RequestSpec {
  url: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** A body per request instead of `body` (every request different: cache misses). */
  bodyFor?: () => string;
}

interface AutocannonResult {
  duration: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  requests: { total: number };
}

interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTime: number) => void): void;
  on(event: 'done', listener: (result: AutocannonResult) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
}

type Autocannon = (
  options: Record<string, unknown>,
  callback?: (error: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;

// autocannon ships no type declarations; this is the part of its API the bench uses.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export function percentile(sorted: Float64Array | number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index] as number;
}

export function summarize(values: number[]): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  let total = 0;
  for (const value of sorted) total += value;
  return {
    count: sorted.length,
    p50Ms: percentile(sorted, 0.5),
    p90Ms: percentile(sorted, 0.9),
    p99Ms: percentile(sorted, 0.99),
    meanMs: sorted.length > 0 ? total / sorted.length : Number.NaN,
    maxMs: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : Number.NaN,
  };
}

/** Runs autocannon for `durationSeconds` (or `amount` requests) and records every 2xx response time. */
export function runThroughput(
  spec: RequestSpec,
  options: { connections: number; durationSeconds?: number; amount?: number },
): Promise<ThroughputResult> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const settings: Record<string, unknown> = {
      url: `${spec.url}${spec.path}`,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...spec.headers },
      body: spec.body,
      connections: options.connections,
      pipelining: 1,
      timeout: 10,
    };
    const bodyFor = spec.bodyFor;
    if (bodyFor) settings.requests = [{ setupRequest: (request: Record<string, unknown>) => ({ ...request, body: bodyFor() }) }];
    if (options.amount !== undefined) {
      settings.amount = options.amount;
      settings.connections = Math.min(options.connections, options.amount);
    } else settings.duration = options.durationSeconds ?? 5;
    const instance = autocannon(settings, (error, result) => {
      if (error) {
        reject(error);
        return;
      }
      const durationSeconds = result.duration;
      resolve({
        ...summarize(latencies),
        requestsPerSecond: latencies.length / durationSeconds,
        durationSeconds,
        errors: result.non2xx + result.errors + result.timeouts,
      });
    });
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
}

/**
 * Sends `requests` streaming chat requests over `concurrency` keep-alive connections and times, for
 * each, the first body byte (the first SSE event) and the last one (after `data: [DONE]`).
 */
export async function runStreamProbe(
  spec: RequestSpec,
  options: { requests: number; concurrency: number; warmup?: number; maxSeconds?: number },
): Promise<StreamProbeResult> {
  const pool = new Pool(spec.url, { connections: options.concurrency, keepAliveTimeout: 60_000, pipelining: 1 });
  const headers = { 'content-type': 'application/json', accept: 'text/event-stream', ...spec.headers };
  const firstByte: number[] = [];
  const lastByte: number[] = [];
  let errors = 0;

  async function one(record: boolean): Promise<void> {
    const startedAt = performance.now();
    let first = -1;
    let tail = '';
    try {
      const response = await pool.request({ path: spec.path, method: 'POST', headers, body: spec.body });
      for await (const piece of response.body) {
        if (first < 0) first = performance.now() - startedAt;
        tail = (tail + (piece as Buffer).toString('utf8')).slice(-32);
      }
      const last = performance.now() - startedAt;
      if (response.statusCode !== 200 || !tail.includes('data: [DONE]')) {
        errors++;
        return;
      }
      if (record) {
        firstByte.push(first);
        lastByte.push(last);
      }
    } catch {
      errors++;
    }
  }

  async function run(total: number, record: boolean): Promise<number> {
    let next = 0;
    const startedAt = performance.now();
    const deadline = startedAt + (options.maxSeconds ?? Number.POSITIVE_INFINITY) * 1000;
    const worker = async () => {
      while (next < total && performance.now() < deadline) {
        next++;
        await one(record);
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    return (performance.now() - startedAt) / 1000;
  }

  try {
    await run(options.warmup ?? Math.min(200, options.requests), false);
    errors = 0;
    const seconds = await run(options.requests, true);
    return {
      requests: firstByte.length,
      errors,
      concurrency: options.concurrency,
      requestsPerSecond: firstByte.length / seconds,
      timeToFirstByte: summarize(firstByte),
      timeToLastByte: summarize(lastByte),
    };
  } finally {
    await pool.close();
  }
}

export interface PairedLatencyResult {
  pairs: number;
  errors: number;
  direct: LatencySummary;
  target: LatencySummary;
  /** Median of the per-pair differences (target minus direct), in ms. */
  addedP50Ms: number;
}

/**
 * Added latency measured in pairs: one request direct, one through the target, alternating which goes
 * first, each over its own keep-alive connection, for `durationSeconds`. Both sides see the same
 * moments of the machine, so drift from other load cancels out of the difference.
 */
export async function runPairedLatency(
  direct: RequestSpec,
  target: RequestSpec,
  options: { durationSeconds: number; warmup?: number; maxPairs?: number },
): Promise<PairedLatencyResult> {
  const directPool = new Pool(direct.url, { connections: 1, keepAliveTimeout: 60_000, pipelining: 1 });
  const targetPool = new Pool(target.url, { connections: 1, keepAliveTimeout: 60_000, pipelining: 1 });
  let errors = 0;
  async function once(pool: Pool, spec: RequestSpec): Promise<number> {
    const startedAt = performance.now();
    try {
      const response = await pool.request({
        path: spec.path,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...spec.headers },
        body: spec.body,
      });
      await response.body.dump({ limit: Number.MAX_SAFE_INTEGER });
      if (response.statusCode !== 200) {
        errors++;
        return Number.NaN;
      }
      return performance.now() - startedAt;
    } catch {
      errors++;
      return Number.NaN;
    }
  }
  const directTimes: number[] = [];
  const targetTimes: number[] = [];
  const differences: number[] = [];
  try {
    for (let index = 0; index < (options.warmup ?? 200); index++) {
      await once(directPool, direct);
      await once(targetPool, target);
    }
    errors = 0;
    const deadline = performance.now() + options.durationSeconds * 1000;
    const maxPairs = options.maxPairs ?? Number.POSITIVE_INFINITY;
    for (let index = 0; performance.now() < deadline && index < maxPairs; index++) {
      let directTime: number;
      let targetTime: number;
      if (index % 2 === 0) {
        directTime = await once(directPool, direct);
        targetTime = await once(targetPool, target);
      } else {
        targetTime = await once(targetPool, target);
        directTime = await once(directPool, direct);
      }
      if (Number.isNaN(directTime) || Number.isNaN(targetTime)) continue;
      directTimes.push(directTime);
      targetTimes.push(targetTime);
      differences.push(targetTime - directTime);
    }
  } finally {
    await Promise.all([directPool.close(), targetPool.close()]);
  }
  return {
    pairs: differences.length,
    errors,
    direct: summarize(directTimes),
    target: summarize(targetTimes),
    addedP50Ms: summarize(differences).p50Ms,
  };
}
