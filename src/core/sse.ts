/** Server-sent events in and out. */
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface SseLimits {
  /** Largest event (its data) and largest run of text without an event end; past it `tooLarge()` is thrown. */
  maxEventBytes: number;
  tooLarge: () => Error;
  /** Maps a failure of the body (or `tooLarge()`) to the error thrown (in this generator: no extra layer per event). */
  mapError?: (error: unknown) => unknown;
}

/** Characters after the last blank line (the end of an event) in `text`, or all of it when there is none. */
function afterLastEventEnd(text: string): number {
  const end = Math.max(text.lastIndexOf('\n\n'), text.lastIndexOf('\r\r'), text.lastIndexOf('\n\r\n'));
  if (end < 0) return text.length;
  return text.length - end - (text.startsWith('\n\r\n', end) ? 3 : 2);
}

/**
 * Parses an SSE byte stream into messages (comments and retry fields are ignored). With `limits`, memory is
 * bounded: an event whose data passes `maxEventBytes`, or that much text without an event end (a line that
 * never ends), throws `limits.tooLarge()`. The run without an event end is counted piece by piece, from the
 * last blank line of the piece that ended an event.
 */
export async function* parseSse(body: AsyncIterable<Uint8Array | string>, limits?: SseLimits): AsyncGenerator<EventSourceMessage> {
  const pending: EventSourceMessage[] = [];
  let oversized = false;
  const parser = createParser({
    onEvent: (message) => {
      if (limits !== undefined && message.data.length > limits.maxEventBytes) oversized = true;
      else pending.push(message);
    },
  });
  const decoder = new TextDecoder();
  let open = 0;
  try {
    for await (const piece of body) {
      const text = typeof piece === 'string' ? piece : decoder.decode(piece, { stream: true });
      parser.feed(text);
      if (limits !== undefined) {
        open = pending.length > 0 || oversized ? afterLastEventEnd(text) : open + text.length;
        if (oversized || open > limits.maxEventBytes) throw limits.tooLarge();
      }
      while (pending.length > 0) yield pending.shift() as EventSourceMessage;
    }
    parser.feed(`${decoder.decode()}\n\n`);
    if (oversized) throw (limits as SseLimits).tooLarge();
  } catch (error) {
    throw limits?.mapError ? limits.mapError(error) : error;
  }
  while (pending.length > 0) yield pending.shift() as EventSourceMessage;
}

/** Frames one SSE message. */
export function sseFrame(data: string, event?: string): string {
  return event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`;
}

export const sseDone = 'data: [DONE]\n\n';
