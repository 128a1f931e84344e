/**
 * What runs once, shortly after the gateway has started listening (`afterStartDelayMs`):
 * 1. `startedEvent` is emitted on `process`. The production entry (src/bundle-entry/) writes its code cache on
 *    it, while every function the start-up used is still compiled.
 * 2. One memory-reducing garbage collection. Start-up allocates a lot that survives a little (module code,
 *    configuration, schemas, route tables), so V8 grows its young generation to its largest size (16 MB here)
 *    and keeps it, with the start-up's garbage, for as long as the process stays idle: V8 shrinks the heap only
 *    in a GC that aims at memory, and an idle process triggers no GC at all. One such GC, right after the start,
 *    gives the memory back. It takes about 50 ms, once. Under load V8 grows the young generation again as it
 *    needs. Measured on the bundle (2026-12-04, docs/benchmarks.md, "Start-up and idle memory"): anonymous
 *    memory 47 MB before, 33 MB after.
 *
 * V8 offers that GC only through its `gc` extension. The extension is turned on just long enough to fetch the
 * function from a fresh context, so nothing named `gc` appears in the gateway's own global scope.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export const startedEvent = 'modelgate:started';

/** How long after listening `afterStart` runs (src/main.ts): the start's first requests are served before its GC. */
export const afterStartDelayMs = 250;

type GcFunction = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/** Runs one full, memory-reducing GC; false when this V8 does not offer it (then nothing happened). */
export function collectStartupGarbage(): boolean {
  let gc: GcFunction | undefined;
  try {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as GcFunction;
  } catch {
    return false;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  if (typeof gc !== 'function') return false;
  // `last-resort` is V8's collect-all-available-garbage: several full GCs that shrink the heap's spaces.
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return true;
}

/** Announces the start, then releases the start-up's memory. */
export function afterStart(): void {
  process.emit(startedEvent);
  collectStartupGarbage();
}
