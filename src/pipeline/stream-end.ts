/**
 * Calls `first` at the first chunk and `done` once when a streamed result ends: consumed to the end, failed, or abandoned (the
 * consumer stopped early). Stages use it to release what they hold for the call (in-flight counts,
 * reservations) without adding a generator layer to every chunk.
 */
import type { ProviderResult, StreamChunk, StreamResult } from '../providers/types.ts';

export function onStreamEnd(result: StreamResult, done: (failed: boolean) => void, first?: () => void): StreamResult {
  let finished = false;
  let started = first === undefined;
  const finish = (failed: boolean) => {
    if (finished) return;
    finished = true;
    done(failed);
  };
  const source = result.chunks[Symbol.asyncIterator]();
  const chunks: AsyncIterableIterator<StreamChunk> = {
    [Symbol.asyncIterator]() {
      return chunks;
    },
    async next() {
      try {
        const step = await source.next();
        if (step.done) finish(false);
        else if (!started) {
          started = true;
          first?.();
        }
        return step;
      } catch (error) {
        finish(true);
        throw error;
      }
    },
    async return(value?: unknown) {
      finish(false);
      const step = await source.return?.(value);
      return step ?? { done: true, value: undefined };
    },
  };
  return { ...result, chunks };
}

/**
 * Calls `done` when the result is over: at once for JSON, at the stream's end otherwise; and `first`
 * when the answer starts (at once for JSON, at the first chunk of a stream).
 */
export function onResultEnd(result: ProviderResult, done: (failed: boolean) => void, first?: () => void): ProviderResult {
  if (result.kind === 'json') {
    first?.();
    done(false);
    return result;
  }
  return onStreamEnd(result, done, first);
}
