/**
 * Group commit of the record journals, and the barrier answers wait at.
 *
 * A journal (src/storage/record-journal.ts) does not write each record line as it comes: it buffers the
 * line and asks, with `deferRecordWrite`, to be flushed once at the end of this event-loop turn (a
 * `setImmediate`, after the I/O callbacks of the turn have run). Every record produced in one turn, of
 * every journal, so leaves in one `write(2)` per journal instead of one per record.
 *
 * The HTTP layer (src/http/server.ts) awaits `recordsWritten()` before it ends an answer (a JSON body,
 * an error, the last frames of a stream): the records of a call are in the journal (the kernel's page
 * cache) before its client can see the end of its answer, as when every line was written at once.
 * `recordsWritten()` is null when nothing waits, so an answer without records pays nothing.
 */

type Flush = () => void;

let pending: Flush[] = [];
let turn: { promise: Promise<void>; resolve: () => void } | null = null;

function writeTurn(): void {
  const current = turn;
  turn = null;
  const flushes = pending;
  pending = [];
  for (const flush of flushes) {
    try {
      flush();
    } catch {
      // A flush reports its own failures (the journal's error callback); the others still run.
    }
  }
  current?.resolve();
}

/** Runs `flush` at the end of this event-loop turn (once per call: callers register once per turn). */
export function deferRecordWrite(flush: Flush): void {
  pending.push(flush);
  if (turn === null) {
    const { promise, resolve } = Promise.withResolvers<void>();
    turn = { promise, resolve };
    setImmediate(writeTurn);
  }
}

/** Resolves once every record line produced so far is written; null when none waits. Never rejects. */
export function recordsWritten(): Promise<void> | null {
  return turn?.promise ?? null;
}
