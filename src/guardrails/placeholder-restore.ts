/**
 * Puts the originals of reversible PII placeholders (`[EMAIL_1]`) back into the answer: every
 * string of a JSON answer, and the deltas of a stream (chat chunks' content and tool arguments,
 * Responses `*.delta` events). A placeholder can arrive split over several chunks, so the end of a
 * delta that could be the start of one is held back until the next delta (or the end of that
 * choice) shows what it is.
 */
import type { Json, ProviderResult, StreamChunk, StreamResult } from '../providers/types.ts';

/** The longest text held back: `[` + label + `_` + number + `]`. */
const maxPlaceholderLength = 32;
const placeholderPattern = /\[[A-Z_]+_\d+\]/g;
const partialAtEnd = /\[[A-Z_]*\d*$/;

export function restoreText(text: string, placeholders: ReadonlyMap<string, string>): string {
  if (!text.includes('[')) return text;
  return text.replace(placeholderPattern, (placeholder) => placeholders.get(placeholder) ?? placeholder);
}

function restoreDeep(value: unknown, placeholders: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') return restoreText(value, placeholders);
  if (Array.isArray(value)) return value.map((item) => restoreDeep(item, placeholders));
  if (value !== null && typeof value === 'object') {
    const copy: Json = {};
    for (const [key, item] of Object.entries(value)) copy[key] = restoreDeep(item, placeholders);
    return copy;
  }
  return value;
}

/** Splits `text` into what can be restored and sent now, and a tail that may be an unfinished placeholder. */
export function splitHeld(text: string): [ready: string, held: string] {
  const partial = partialAtEnd.exec(text);
  if (!partial || text.length - partial.index > maxPlaceholderLength) return [text, ''];
  return [text.slice(0, partial.index), text.slice(partial.index)];
}

/** Restores placeholders in streamed deltas, keyed by where each delta belongs. */
export function createDeltaRestorer(placeholders: ReadonlyMap<string, string>) {
  const pending = new Map<string, string>();
  return {
    /** The restored text to send for this delta (maybe shorter, the rest held). */
    add(key: string, delta: string): string {
      const [ready, held] = splitHeld((pending.get(key) ?? '') + delta);
      if (held) pending.set(key, held);
      else pending.delete(key);
      return restoreText(ready, placeholders);
    },
    /** What was held for `key`, released (an unfinished placeholder is sent as it is). */
    flush(key: string): string {
      const held = pending.get(key) ?? '';
      pending.delete(key);
      return restoreText(held, placeholders);
    },
    keys(): string[] {
      return [...pending.keys()];
    },
  };
}

type DeltaRestorer = ReturnType<typeof createDeltaRestorer>;

/** A chunk carrying `parsed` (both as text and as the parsed object consumers reuse). */
function withJson(chunk: StreamChunk, parsed: Json): StreamChunk {
  return { ...chunk, data: JSON.stringify(parsed), json: parsed };
}

function restoreChatChunk(chunk: Json, restorer: DeltaRestorer): void {
  if (!Array.isArray(chunk.choices)) return;
  for (const choice of chunk.choices as Json[]) {
    const delta = choice.delta as Json | undefined;
    if (!delta) continue;
    const key = `content:${String(choice.index ?? 0)}`;
    if (typeof delta.content === 'string') delta.content = restorer.add(key, delta.content);
    if (Array.isArray(delta.tool_calls)) {
      for (const call of delta.tool_calls as Json[]) {
        const fn = call.function as Json | undefined;
        if (fn && typeof fn.arguments === 'string')
          fn.arguments = restorer.add(`tool:${String(choice.index ?? 0)}:${String(call.index ?? 0)}`, fn.arguments);
      }
    }
    if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
      const rest = restorer.flush(key);
      if (rest) delta.content = (typeof delta.content === 'string' ? delta.content : '') + rest;
      for (const held of restorer.keys()) {
        if (held.startsWith(`tool:${String(choice.index ?? 0)}:`)) restorer.flush(held);
      }
    }
  }
}

async function* restoreStream(result: StreamResult, placeholders: ReadonlyMap<string, string>): AsyncGenerator<StreamChunk> {
  const restorer = createDeltaRestorer(placeholders);
  let lastDelta: { chunk: StreamChunk; parsed: Json; key: string } | null = null;
  let lastChat: { chunk: StreamChunk; parsed: Json } | null = null;
  const flushResponses = (): StreamChunk | null => {
    if (!lastDelta) return null;
    const rest = restorer.flush(lastDelta.key);
    const { chunk, parsed } = lastDelta;
    lastDelta = null;
    return rest ? withJson(chunk, { ...parsed, delta: rest }) : null;
  };
  for await (const chunk of result.chunks) {
    let parsed: Json;
    try {
      // Parsed again rather than taken from chunk.json: the restore rewrites it, and chunk.json is read-only.
      parsed = JSON.parse(chunk.data) as Json;
    } catch {
      yield chunk;
      continue;
    }
    if (chunk.event === undefined || chunk.event === '') {
      restoreChatChunk(parsed, restorer);
      if (Array.isArray(parsed.choices) && parsed.choices.length > 0) lastChat = { chunk, parsed };
      yield withJson(chunk, parsed);
      continue;
    }
    // Responses events: deltas are held back as needed; any other event first releases what was held.
    if (chunk.event.endsWith('.delta') && typeof parsed.delta === 'string') {
      const key = `${String(parsed.item_id ?? '')}:${String(parsed.output_index ?? 0)}:${String(parsed.content_index ?? 0)}:${chunk.event}`;
      if (lastDelta && lastDelta.key !== key) {
        const released = flushResponses();
        if (released) yield released;
      }
      const restored = { ...parsed, delta: restorer.add(key, parsed.delta) };
      lastDelta = { chunk, parsed, key };
      yield withJson(chunk, restored);
      continue;
    }
    const released = flushResponses();
    if (released) yield released;
    yield withJson(chunk, restoreDeep(parsed, placeholders) as Json);
  }
  const released = flushResponses();
  if (released) yield released;
  // A chat stream that ended without a finish_reason: what is still held goes out in one last chunk.
  for (const key of restorer.keys()) {
    const rest = restorer.flush(key);
    if (!rest || !lastChat || !key.startsWith('content:')) continue;
    const choice = { index: Number(key.slice('content:'.length)), delta: { content: rest }, finish_reason: null };
    yield withJson(lastChat.chunk, { ...lastChat.parsed, choices: [choice] });
  }
}

/** The result with placeholders restored (JSON at once, a stream as it flows). */
export function restorePlaceholders(result: ProviderResult, placeholders: ReadonlyMap<string, string>): ProviderResult {
  if (result.kind === 'json') {
    const body = restoreDeep(result.body, placeholders) as Json;
    const { rawBody: _raw, ...rest } = result;
    return { ...rest, body };
  }
  return { ...result, chunks: restoreStream(result, placeholders) };
}
