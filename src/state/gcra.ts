/**
 * GCRA (generic cell rate algorithm) over several windows at once, as the embedded store runs it.
 * The Redis store runs the same steps in Lua (redis-scripts.ts). Per window, the state is one number,
 * the theoretical arrival time (TAT): a window of `limit` units per `windowMs` emits one unit every
 * windowMs/limit ms; a cost fits when the TAT it leads to is at most one window ahead of now.
 * Reference: https://en.wikipedia.org/wiki/Generic_cell_rate_algorithm (virtual scheduling form).
 */
import type { WindowEntry, WindowResult, WindowState } from './shared-state.ts';

export interface GcraStep {
  result: WindowResult;
  /** New TAT per entry, to store when `write` is true. */
  tats: number[];
  write: boolean;
}

export function gcra(entries: WindowEntry[], stored: (number | undefined)[], now: number, force: boolean): GcraStep {
  let allowed = true;
  let retryAfterMs = 0;
  const base: number[] = [];
  const next: number[] = [];
  entries.forEach((entry, index) => {
    const interval = entry.windowMs / entry.limit;
    const tat = Math.max(stored[index] ?? now, now);
    const newTat = tat + entry.cost * interval;
    const ahead = newTat - now;
    const fits = entry.cost > 0 ? ahead <= entry.windowMs + 1e-6 : ahead < entry.windowMs;
    if (!fits) {
      allowed = false;
      retryAfterMs = Math.max(retryAfterMs, entry.cost > 0 ? ahead - entry.windowMs : tat - now - entry.windowMs + interval);
    }
    base.push(tat);
    next.push(newTat);
  });
  const write = allowed || force;
  const tats = write ? next : base;
  const windows: WindowState[] = entries.map((entry, index) => {
    const interval = entry.windowMs / entry.limit;
    const ahead = (tats[index] as number) - now;
    const remaining = Math.max(0, Math.min(entry.limit, Math.floor((entry.windowMs - ahead) / interval + 1e-9)));
    return { limit: entry.limit, remaining, resetMs: Math.max(0, Math.ceil(ahead)) };
  });
  return { result: { allowed, retryAfterMs: allowed ? 0 : Math.ceil(retryAfterMs), windows }, tats, write };
}
