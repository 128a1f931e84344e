/**
 * Per target (the model name a virtual model lists), what the least-latency and least-busy strategies
 * need: calls in flight and a moving average of the time to the upstream's first content (the first
 * chunk of a stream, the whole body otherwise). Process-local: each replica balances what it sends.
 * Bounded: at most `maxTargets` names (default 4,096), least recently used forgotten first.
 */
import { LRUCache } from 'lru-cache';

export interface TargetStats {
  inFlight(target: string): number;
  /** Exponentially weighted moving average in ms, or undefined before the first answer. */
  latency(target: string): number | undefined;
  begin(target: string): void;
  end(target: string, latencyMs: number | null): void;
  snapshot(): Record<string, { in_flight: number; latency_ms: number | null }>;
  /** Targets tracked now (at most `maxTargets`). */
  size(): number;
}

/** Weight of the newest sample in the moving average. */
const smoothing = 0.3;

export function createTargetStats(maxTargets = 4_096): TargetStats {
  const targets = new LRUCache<string, { busy: number; average: number | undefined }>({ max: Math.max(1, maxTargets) });
  const entry = (target: string) => {
    let found = targets.get(target);
    if (!found) {
      found = { busy: 0, average: undefined };
      targets.set(target, found);
    }
    return found;
  };
  return {
    inFlight: (target) => targets.peek(target)?.busy ?? 0,
    latency: (target) => targets.peek(target)?.average,
    begin(target) {
      entry(target).busy += 1;
    },
    end(target, latencyMs) {
      const found = entry(target);
      found.busy = Math.max(0, found.busy - 1);
      if (latencyMs === null) return;
      found.average = found.average === undefined ? latencyMs : found.average + smoothing * (latencyMs - found.average);
    },
    snapshot() {
      return Object.fromEntries(
        [...targets.entries()].map(([name, found]) => [name, { in_flight: found.busy, latency_ms: found.average ?? null }]),
      );
    },
    size: () => targets.size,
  };
}
