/**
 * Per target (the model name a virtual model lists), what the least-latency and least-busy strategies
 * need: calls in flight and a moving average of the time to the upstream's first content (the first
 * chunk of a stream, the whole body otherwise). Process-local: each replica balances what it sends.
 */
export interface TargetStats {
  inFlight(target: string): number;
  /** Exponentially weighted moving average in ms, or undefined before the first answer. */
  latency(target: string): number | undefined;
  begin(target: string): void;
  end(target: string, latencyMs: number | null): void;
  snapshot(): Record<string, { in_flight: number; latency_ms: number | null }>;
}

/** Weight of the newest sample in the moving average. */
const smoothing = 0.3;

export function createTargetStats(): TargetStats {
  const busy = new Map<string, number>();
  const averages = new Map<string, number>();
  return {
    inFlight: (target) => busy.get(target) ?? 0,
    latency: (target) => averages.get(target),
    begin(target) {
      busy.set(target, (busy.get(target) ?? 0) + 1);
    },
    end(target, latencyMs) {
      busy.set(target, Math.max(0, (busy.get(target) ?? 0) - 1));
      if (latencyMs === null) return;
      const previous = averages.get(target);
      averages.set(target, previous === undefined ? latencyMs : previous + smoothing * (latencyMs - previous));
    },
    snapshot() {
      const names = new Set([...busy.keys(), ...averages.keys()]);
      return Object.fromEntries(
        [...names].map((name) => [name, { in_flight: busy.get(name) ?? 0, latency_ms: averages.get(name) ?? null }]),
      );
    },
  };
}
