/**
 * Holds a stream's opening chunks (role announcements, `response.created`...) until its first content
 * or tool-call delta, so that a failure before any content reached the client can still be retried or
 * fall back to another model. The held chunks are replayed in order, then the stream continues from
 * the upstream without an extra generator layer. Bounded: at most `maxHeldChunks` chunks and
 * `timeoutMs` before the first content; past the time limit the upstream request is aborted and the
 * attempt fails with a retryable 504 `stream_start_timeout`.
 */
import { GatewayError } from '../core/errors.ts';
import type { Attempt, CallTrace } from '../pipeline/model-call.ts';
import type { StreamChunk, StreamResult } from '../providers/types.ts';

const maxHeldChunks = 256;

/** Streams already held by an inner stage: an outer stage does not hold them again. */
const held = new WeakSet<StreamResult>();

/** Events of the Responses and Messages streams that open a stream without carrying content. */
const openingEvents = new Set([
  'response.created',
  'response.in_progress',
  'response.queued',
  'response.output_item.added',
  'response.content_part.added',
  'message_start',
  'content_block_start',
  'ping',
]);

function nonEmpty(value: unknown): boolean {
  return typeof value === 'string' ? value.length > 0 : value !== undefined && value !== null;
}

/** Whether the chunk carries something the client sees as the answer (text, tool call, reasoning, end). */
export function isContentChunk(chunk: StreamChunk): boolean {
  if (chunk.usageOnly) return false;
  if (chunk.event !== undefined) return !openingEvents.has(chunk.event);
  let parsed: { type?: unknown; choices?: { delta?: Record<string, unknown>; finish_reason?: unknown }[] };
  if (chunk.json !== undefined) parsed = chunk.json as typeof parsed;
  else {
    try {
      parsed = JSON.parse(chunk.data) as typeof parsed;
    } catch {
      return true;
    }
  }
  const choices = parsed?.choices;
  if (!Array.isArray(choices)) return typeof parsed?.type === 'string' ? !openingEvents.has(parsed.type as string) : true;
  for (const choice of choices) {
    if (nonEmpty(choice?.finish_reason)) return true;
    const delta = choice?.delta;
    if (!delta) continue;
    if (nonEmpty(delta.content) || nonEmpty(delta.tool_calls) || nonEmpty(delta.reasoning_content) || nonEmpty(delta.reasoning)) return true;
    if (nonEmpty(delta.refusal) || nonEmpty(delta.function_call) || nonEmpty(delta.audio)) return true;
  }
  return false;
}

function startTimeout(timeoutMs: number): GatewayError {
  return new GatewayError(`The upstream stream sent no content within ${timeoutMs} ms`, {
    status: 504,
    code: 'stream_start_timeout',
    type: 'timeout_error',
    retryable: true,
  });
}

/** Marks the attempt a stream belonged to as failed (dispatch recorded it as started). */
function markFailed(trace: CallTrace, attemptIndex: number, error: GatewayError): void {
  const attempt: Attempt | undefined = trace.attempts[attemptIndex];
  if (attempt && attempt.error === null) {
    attempt.status = error.status;
    attempt.error = error.code;
  }
  trace.served = null;
}

/**
 * Resolves once the stream has sent content (or ended), with a stream that replays what was held.
 * Rejects with the stream's error, or a timeout, when it fails before content.
 */
export async function awaitStreamStart(
  result: StreamResult,
  timeoutMs: number,
  trace: CallTrace,
  attemptIndex: number,
): Promise<StreamResult> {
  if (held.has(result)) return result;
  const source = result.chunks[Symbol.asyncIterator]();
  const buffer: StreamChunk[] = [];
  let ended = false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    while (buffer.length < maxHeldChunks) {
      const step = await Promise.race([source.next(), timeout]);
      if (step === 'timeout') {
        // A generator cannot be closed while it waits for the upstream: abort the upstream request instead.
        result.abort?.();
        throw startTimeout(timeoutMs);
      }
      if (step.done) {
        ended = true;
        break;
      }
      buffer.push(step.value);
      if (isContentChunk(step.value)) break;
    }
  } catch (error) {
    const gatewayError =
      error instanceof GatewayError ? error : new GatewayError('The upstream stream failed before any content', { status: 502, code: 'upstream_stream_error', cause: error });
    markFailed(trace, attemptIndex, gatewayError);
    throw gatewayError;
  } finally {
    clearTimeout(timer);
  }
  let index = 0;
  const chunks: AsyncIterableIterator<StreamChunk> = {
    [Symbol.asyncIterator]() {
      return chunks;
    },
    next() {
      if (index < buffer.length) {
        const value = buffer[index++] as StreamChunk;
        if (index === buffer.length) buffer.length = index = 0;
        return Promise.resolve({ done: false, value });
      }
      if (ended) return Promise.resolve({ done: true, value: undefined });
      return source.next();
    },
    return(value?: unknown) {
      buffer.length = 0;
      return source.return ? source.return(value) : Promise.resolve({ done: true, value: undefined });
    },
  };
  const started: StreamResult = { ...result, chunks };
  held.add(started);
  return started;
}
