/**
 * The text of an answer as output guardrails see it: chat completions' `choices[].message.content`
 * (also what Messages and translated Responses calls get back), native Responses' `output[].content[]`
 * `output_text` parts; in streams, chat chunks' `delta.content` and Responses' `response.output_text.delta`.
 */
import type { Json } from '../providers/types.ts';

interface TextSlot {
  text: string;
  write(text: string): void;
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function slotsOf(body: Json): TextSlot[] {
  const slots: TextSlot[] = [];
  if (Array.isArray(body.choices)) {
    for (const choice of body.choices) {
      const message = isObject(choice) ? choice.message : undefined;
      if (isObject(message) && typeof message.content === 'string') {
        slots.push({ text: message.content, write: (text) => (message.content = text) });
      }
    }
  }
  if (Array.isArray(body.output)) {
    for (const item of body.output) {
      if (!isObject(item) || !Array.isArray(item.content)) continue;
      for (const part of item.content) {
        if (isObject(part) && part.type === 'output_text' && typeof part.text === 'string') {
          slots.push({ text: part.text, write: (text) => (part.text = text) });
        }
      }
    }
  }
  return slots;
}

export function readAnswerTexts(body: Json): string[] {
  return slotsOf(body).map((slot) => slot.text);
}

/** `holder[key]` copied when it is an array: each object in it too, and in each of those `inner` when an array. */
function copyArray(holder: Json, key: string, inner?: string): void {
  const entries = holder[key];
  if (!Array.isArray(entries)) return;
  holder[key] = entries.map((entry) => {
    if (!isObject(entry)) return entry;
    const copy = { ...entry };
    if (inner !== undefined) copyArray(copy, inner);
    return copy;
  });
}

/**
 * A copy of the answer that its texts can be written into without touching `body`: the choices and their
 * messages, the output items and their content parts are copied; everything else is shared (nothing here
 * changes it), which is cheaper than a deep copy of an answer carrying tool calls, logprobs or images.
 */
function copyForAnswerRewrite(body: Json): Json {
  const copy = { ...body };
  copyArray(copy, 'choices');
  if (Array.isArray(copy.choices)) {
    for (const choice of copy.choices) if (isObject(choice) && isObject(choice.message)) choice.message = { ...choice.message };
  }
  copyArray(copy, 'output', 'content');
  return copy;
}

/** A copy of the answer with its texts replaced (same order as readAnswerTexts). */
export function writeAnswerTexts(body: Json, texts: readonly string[]): Json {
  const copy = copyForAnswerRewrite(body);
  slotsOf(copy).forEach((slot, index) => {
    const text = texts[index];
    if (text !== undefined && text !== slot.text) slot.write(text);
  });
  // A Responses body repeats the text in `output_text` (a convenience some clients read).
  if (typeof copy.output_text === 'string') copy.output_text = readAnswerTexts(copy).join('');
  return copy;
}

/** Where a stream chunk carries answer text: a key per choice or content part, and the delta. */
export interface StreamDelta {
  key: string;
  text: string;
  /** `chunk` (this chunk's object, or a copy made by an earlier replace) with this delta's text replaced. */
  replace(chunk: Json, text: string): Json;
  /** The choice finished with this chunk (chat `finish_reason`). */
  finished: boolean;
}

/** The text deltas of one stream chunk (one per choice of a chat chunk; one for a Responses text delta). */
export function streamDeltas(parsed: Json, event: string | undefined): StreamDelta[] {
  if (event === 'response.output_text.delta' && typeof parsed.delta === 'string') {
    return [
      {
        key: `${String(parsed.item_id ?? '')}:${String(parsed.content_index ?? 0)}`,
        text: parsed.delta,
        replace: (chunk, text) => ({ ...chunk, delta: text }),
        finished: false,
      },
    ];
  }
  if (event || !Array.isArray(parsed.choices)) return [];
  const deltas: StreamDelta[] = [];
  parsed.choices.forEach((choice, position) => {
    if (!isObject(choice)) return;
    const delta = isObject(choice.delta) ? choice.delta : {};
    const finished = choice.finish_reason !== null && choice.finish_reason !== undefined;
    if (typeof delta.content !== 'string' && !finished) return;
    deltas.push({
      key: `choice:${String(choice.index ?? position)}`,
      text: typeof delta.content === 'string' ? delta.content : '',
      replace: (chunk, text) => {
        const choices = [...(chunk.choices as Json[])];
        const current = choices[position] as Json;
        choices[position] = { ...current, delta: { ...(current.delta as Json | undefined), content: text } };
        return { ...chunk, choices };
      },
      finished,
    });
  });
  return deltas;
}
