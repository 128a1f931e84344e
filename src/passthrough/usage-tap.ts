/**
 * Watches the bytes of a relayed answer without holding them: chunks go on to the client as they
 * come, and a bounded copy is read for usage. SSE is parsed event by event (an event larger than
 * `maxEventBytes` stops the reading); a JSON answer is kept whole up to `maxJsonBytes`, past that
 * only its last `tailBytes`, where OpenAI, Anthropic and Gemini put their usage object.
 */
import { createParser } from 'eventsource-parser';
import type { NativeFormat } from './passthrough-targets.ts';
import { createNativeStreamReader, type NativeReading, readNativeBody } from './native-usage.ts';

export interface UsageTapOptions {
  maxJsonBytes?: number;
  tailBytes?: number;
  maxEventBytes?: number;
}

export interface UsageTap {
  /** The same chunks, in order, as they arrive. */
  body: AsyncIterable<Uint8Array>;
  /** What was read so far; final once `body` is exhausted. */
  reading(): NativeReading;
  /** The parsed JSON answer when it was kept whole (for the audit log), else undefined. */
  json(): unknown;
  /** True when the answer is an event stream. */
  stream: boolean;
}

const usageKeys = ['"usageMetadata"', '"usage"'];

/** The JSON object value of the last `"key":{...}` in `text`, found by matching braces outside strings. */
export function lastObjectValue(text: string, key: string): unknown {
  let from = text.length;
  while (from > 0) {
    const at = text.lastIndexOf(key, from - 1);
    if (at < 0) return undefined;
    from = at;
    const open = text.indexOf('{', at + key.length);
    if (open < 0 || !/^\s*:\s*$/.test(text.slice(at + key.length, open))) continue;
    let depth = 0;
    let inString = false;
    for (let index = open; index < text.length; index++) {
      const character = text[index];
      if (inString) {
        if (character === '\\') index++;
        else if (character === '"') inString = false;
      } else if (character === '"') inString = true;
      else if (character === '{') depth++;
      else if (character === '}' && --depth === 0) {
        try {
          return JSON.parse(text.slice(open, index + 1));
        } catch {
          break;
        }
      }
    }
  }
  return undefined;
}

export function createUsageTap(
  format: NativeFormat,
  contentType: string,
  contentEncoding: string | undefined,
  source: AsyncIterable<Uint8Array>,
  options: UsageTapOptions = {},
): UsageTap {
  const maxJsonBytes = options.maxJsonBytes ?? 4 * 1024 * 1024;
  const tailBytes = options.tailBytes ?? 64 * 1024;
  const maxEventBytes = options.maxEventBytes ?? 4 * 1024 * 1024;
  const readable = contentEncoding === undefined || contentEncoding === '' || contentEncoding === 'identity';
  const isStream = readable && contentType.includes('text/event-stream');
  const isJson = readable && !isStream && /json/i.test(contentType);
  const streamReader = createNativeStreamReader(format);
  let sinceEvent = 0;
  let parsing = isStream;
  const parser = createParser({
    onEvent: (message) => {
      sinceEvent = 0;
      streamReader.add(message.event, message.data);
    },
  });
  const decoder = new TextDecoder();
  let kept: Uint8Array[] = [];
  let keptBytes = 0;
  let whole = true;
  let result: NativeReading = { usage: null, model: null };
  let parsedJson: unknown;

  function keep(chunk: Uint8Array): void {
    kept.push(chunk);
    keptBytes += chunk.byteLength;
    if (keptBytes <= maxJsonBytes) return;
    whole = false;
    // Only the tail is kept from here on.
    while (kept.length > 1 && keptBytes - (kept[0]?.byteLength ?? 0) >= tailBytes) keptBytes -= kept.shift()?.byteLength ?? 0;
  }

  function finishJson(): void {
    const joined = Buffer.concat(kept);
    kept = [];
    if (whole) {
      try {
        parsedJson = JSON.parse(joined.toString('utf8'));
        result = readNativeBody(format, parsedJson);
      } catch {
        parsedJson = undefined;
      }
      return;
    }
    const tail = joined.subarray(Math.max(0, joined.byteLength - tailBytes)).toString('utf8');
    for (const key of usageKeys) {
      const value = lastObjectValue(tail, key);
      if (value !== undefined) {
        result = readNativeBody(format, { [key.slice(1, -1)]: value });
        return;
      }
    }
  }

  async function* body(): AsyncGenerator<Uint8Array> {
    for await (const chunk of source) {
      if (parsing) {
        sinceEvent += chunk.byteLength;
        if (sinceEvent > maxEventBytes) parsing = false;
        else parser.feed(decoder.decode(chunk, { stream: true }));
      } else if (isJson) keep(chunk);
      yield chunk;
    }
    if (parsing) parser.feed(`${decoder.decode()}\n\n`);
    if (isJson) finishJson();
  }

  return {
    body: body(),
    reading: () => (isStream ? streamReader.reading() : result),
    json: () => parsedJson,
    stream: isStream,
  };
}
