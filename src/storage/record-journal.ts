/**
 * The write-ahead journal of a batch writer: every record is appended here, synchronously, before it
 * enters the in-memory queue, so a process killed with SIGKILL (or by the OOM killer, or a crash) loses
 * no record it has produced. See docs/records-and-secrets.md, "Journal and recovery".
 *
 * - Group commit: `append` buffers the line; the lines of one event-loop turn leave in one `write(2)` on a
 *   file opened with O_APPEND at the end of the turn (src/core/record-barrier.ts), and answers wait for
 *   that write (`recordsWritten()`) before they end. Written, the lines are in the kernel's page cache,
 *   which survives the death of the process (not the loss of the machine: there is no fsync, it would
 *   cost milliseconds per call).
 * - The journal is a list of segments. `seal` closes the segment being written (the next append opens a
 *   new one) and returns the segments that hold the records queued so far; once those records are in the
 *   database, `release` deletes them. So the journal holds the records not yet committed plus those
 *   appended since the last seal, never the whole history.
 * - `maxBytes` caps the live segments: an append that would pass it is refused (the caller spills the
 *   record to its spill file instead, which is as durable and has no cap).
 * - Segment names carry the host, the process id and a per-writer id: at start, `claimOrphanJournals`
 *   renames the segments of processes that are gone (same host, pid not alive, or this very pid from an
 *   earlier run, as in a container restart) into replay files, which the batch writer writes like spill
 *   files. Replays are idempotent: rows carry their id and inserts skip ids already stored.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, mkdirSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { deferRecordWrite } from '../core/record-barrier.ts';

export interface RecordJournal {
  /**
   * Appends one line (ending in `\n`), written at the end of this event-loop turn with the others (await
   * `recordsWritten()` of src/core/record-barrier.ts). False when the cap is reached (nothing was taken).
   */
  append(line: string): boolean;
  /** Closes the current segment (if it holds anything) and returns every segment not yet released. */
  seal(): string[];
  /** Deletes segments whose records are all committed. */
  release(segments: string[]): void;
  /** Closes the current segment and deletes every segment (call once all records are committed or spilled). */
  close(): void;
  /** Bytes in the live segments. */
  bytes(): number;
}

export interface RecordJournalOptions {
  directory: string;
  /** Record kind (`usage`, `audit`): names the segments. */
  name: string;
  maxBytes: number;
  /** A write failed (I/O error): the lines it held are not in the journal. */
  onError?: (error: unknown) => void;
}

/** Segments this process has open, so that a second writer in the same process never claims them. */
const liveSegments = new Set<string>();

const hostTag =
  hostname()
    .replace(/[^A-Za-z0-9_]/g, '_')
    .slice(0, 64) || 'host';

function segmentPattern(name: string): RegExp {
  const escaped = name.replace(/[^A-Za-z0-9_]/g, (character) => `\\${character}`);
  return new RegExp(`^${escaped}\\.journal-(.+)-(\\d+)-([a-z0-9]+)-(\\d+)\\.jsonl$`);
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function createRecordJournal(options: RecordJournalOptions): RecordJournal {
  const writerId = randomBytes(4).toString('hex');
  let sequence = 0;
  let fd: number | null = null;
  let currentFile = '';
  let currentBytes = 0;
  /** Sealed segments and their sizes, oldest first. */
  const sealed = new Map<string, number>();
  let sealedBytes = 0;
  let directoryReady = false;
  /** Lines appended this turn, not yet written, and their size in bytes. */
  let buffered = '';
  let bufferedBytes = 0;
  let scheduled = false;

  function open(): number {
    if (!directoryReady) {
      mkdirSync(options.directory, { recursive: true });
      directoryReady = true;
    }
    sequence += 1;
    currentFile = join(options.directory, `${options.name}.journal-${hostTag}-${process.pid}-${writerId}-${sequence}.jsonl`);
    const opened = openSync(currentFile, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o600);
    liveSegments.add(currentFile);
    currentBytes = 0;
    fd = opened;
    return opened;
  }

  /** Writes the buffered lines in one write(2) (a short write, rare on a regular file, ends in more). */
  function write(): void {
    scheduled = false;
    if (bufferedBytes === 0) return;
    const text = buffered;
    const length = bufferedBytes;
    buffered = '';
    bufferedBytes = 0;
    try {
      const target = fd ?? open();
      const written = writeSync(target, text);
      if (written < length) {
        const bytes = Buffer.from(text, 'utf8');
        let offset = written;
        while (offset < length) offset += writeSync(target, bytes, offset, length - offset);
      }
      currentBytes += length;
    } catch (error) {
      // The records are still queued in memory, as before the journal existed.
      options.onError?.(error);
    }
  }

  function closeCurrent(): void {
    write();
    if (fd === null) return;
    try {
      closeSync(fd);
    } catch {
      // the descriptor is gone either way
    }
    fd = null;
    if (currentBytes > 0) {
      sealed.set(currentFile, currentBytes);
      sealedBytes += currentBytes;
    } else {
      remove(currentFile);
    }
    currentBytes = 0;
  }

  function remove(file: string): void {
    liveSegments.delete(file);
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  }

  return {
    append(line) {
      const length = Buffer.byteLength(line, 'utf8');
      if (sealedBytes + currentBytes + bufferedBytes + length > options.maxBytes) return false;
      buffered += line;
      bufferedBytes += length;
      if (!scheduled) {
        scheduled = true;
        deferRecordWrite(write);
      }
      return true;
    },
    seal() {
      // The lines of records queued so far belong to the segment being sealed.
      write();
      if (currentBytes > 0) closeCurrent();
      return [...sealed.keys()];
    },
    release(segments) {
      for (const file of segments) {
        const size = sealed.get(file);
        if (size === undefined) continue;
        sealed.delete(file);
        sealedBytes -= size;
        remove(file);
      }
    },
    close() {
      // Every record is committed or spilled now: buffered lines need not be written.
      buffered = '';
      bufferedBytes = 0;
      closeCurrent();
      for (const file of sealed.keys()) remove(file);
      sealed.clear();
      sealedBytes = 0;
    },
    bytes: () => sealedBytes + currentBytes + bufferedBytes,
  };
}

/**
 * Renames the journal segments of processes that are gone into replay files (`<replayPrefix><...>.jsonl`),
 * which the batch writer then writes and deletes. Segments of live processes, of other hosts (a spill
 * directory shared between machines) and of writers of this process are left alone. Returns the count.
 */
export function claimOrphanJournals(directory: string, name: string, replayPrefix: string): number {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return 0;
  }
  const pattern = segmentPattern(name);
  let claimed = 0;
  for (const file of names) {
    const match = pattern.exec(file);
    if (!match) continue;
    const path = join(directory, file);
    if (liveSegments.has(path) || match[1] !== hostTag) continue;
    const pid = Number(match[2]);
    // This pid from an earlier run (a container's pid 1 after a restart) is as gone as a dead pid.
    if (pid !== process.pid && processAlive(pid)) continue;
    try {
      if (statSync(path).size === 0) {
        unlinkSync(path);
        continue;
      }
      renameSync(path, join(directory, `${replayPrefix}${Date.now()}-${process.pid}-${randomBytes(3).toString('hex')}-journal.jsonl`));
      claimed += 1;
    } catch {
      // another process claimed it first
    }
  }
  return claimed;
}
