/**
 * What runs once, `afterStartDelayMs` after the gateway has started listening:
 * 1. `startedEvent` is emitted on `process`. The production entry (src/bundle-entry/) writes its code cache on
 *    it, while every function the start-up used is still compiled.
 * 2. One memory-reducing garbage collection, if the gateway is still idle: at most `idleStartRequests` requests
 *    so far and at most `idleStartConnections` connections open (readiness probes, a first call), and
 *    STARTUP_GC is not false. Start-up allocates a lot that survives a little (module code, configuration,
 *    schemas, route tables), so V8 grows its young generation to its largest size (16 MB here) and keeps it,
 *    with the start-up's garbage, for as long as the process stays idle: V8 shrinks the heap only in a GC that
 *    aims at memory, and an idle process triggers no GC at all. One such GC gives the memory back (measured on
 *    the bundle, 2026-12-04, docs/benchmarks.md, "Start-up and idle memory": anonymous memory 47 MB before,
 *    33 MB after). It takes about 50 ms, once; the delay keeps it from holding up the first answers.
 *    A busy gateway skips it: it would grow the young generation again at once, and the GC throws away the code
 *    and type feedback V8 has just built for the request path. Under callgrind, where the GC's effect on V8's
 *    later tiering and GC pacing shows, counts 15,000 requests on varied from 510,684 to 1,109,478
 *    instructions per request against about 584,000 without it; at full speed no difference was measured (GC
 *    counts over 100,000 requests, CPU per request). The instruction bench runs with STARTUP_GC=false.
 *
 * V8 offers that GC only through its `gc` extension. The extension is turned on just long enough to fetch the
 * function from a fresh context, so nothing named `gc` appears in the gateway's own global scope.
 */
import type { Server } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export const startedEvent = 'modelgate:started';

/** How long after listening the after-start steps run: the start's first requests are served before the GC. */
export const afterStartDelayMs = 250;

/** More requests than this before the after-start steps mean the gateway is busy: no GC. */
export const idleStartRequests = 20;

/** More connections than this open at that moment (a load generator, a pool of clients) mean busy as well. */
export const idleStartConnections = 4;

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

/** Announces the start, then releases the start-up's memory unless `busy`. */
export function afterStart(busy: boolean): { collected: boolean } {
  process.emit(startedEvent);
  return { collected: !busy && collectStartupGarbage() };
}

export interface AfterStartResult {
  collected: boolean;
  requests: number;
  connections: number;
}

/**
 * Counts `server`'s requests until `afterStartDelayMs` have passed, then runs `afterStart` (without its GC when
 * `collectGarbage` is false: STARTUP_GC=false).
 */
export function scheduleAfterStart(server: Server, options: { collectGarbage: boolean }, done?: (result: AfterStartResult) => void): void {
  let requests = 0;
  const count = () => {
    requests++;
  };
  server.on('request', count);
  setTimeout(() => {
    server.off('request', count);
    server.getConnections((error, open) => {
      const connections = error ? Number.POSITIVE_INFINITY : open;
      const result = afterStart(!options.collectGarbage || requests > idleStartRequests || connections > idleStartConnections);
      done?.({ ...result, requests, connections });
    });
  }, afterStartDelayMs).unref();
}
