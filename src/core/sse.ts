/** Server-sent events in and out. */
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** Parses an SSE byte stream into messages (comments and retry fields are ignored). */
export async function* parseSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<EventSourceMessage> {
  const pending: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (message) => pending.push(message) });
  const decoder = new TextDecoder();
  for await (const piece of body) {
    parser.feed(typeof piece === 'string' ? piece : decoder.decode(piece, { stream: true }));
    while (pending.length > 0) yield pending.shift() as EventSourceMessage;
  }
  parser.feed(`${decoder.decode()}\n\n`);
  while (pending.length > 0) yield pending.shift() as EventSourceMessage;
}

/** Frames one SSE message. */
export function sseFrame(data: string, event?: string): string {
  return event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`;
}

export const sseDone = 'data: [DONE]\n\n';
