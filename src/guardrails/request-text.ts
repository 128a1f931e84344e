/**
 * The text of a request as guardrails see it, for each inbound shape the pipeline carries:
 * chat completions (`messages`; also the Gemini API, whose calls carry the canonical chat body), the Responses API (`instructions`, `input`) and the Anthropic
 * Messages API (`system`, `messages`). Text is read in order as segments; a rewrite writes new text
 * into a copy of the body at the same places. Images, files and tool-call arguments are not text here.
 */
import type { Endpoint } from '../core/outcome.ts';
import type { Json } from '../providers/types.ts';
import type { SystemPromptMode, TextSegment } from './guardrail-types.ts';

export type RequestShape = 'chat' | 'responses' | 'messages';

interface Slot extends TextSegment {
  write(text: string): void;
}

export function requestShape(endpoint: Endpoint): RequestShape | null {
  if (endpoint === 'chat.completions' || endpoint === 'gemini') return 'chat';
  if (endpoint === 'responses') return 'responses';
  if (endpoint === 'messages') return 'messages';
  return null;
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A `content` value: a string, or an array of parts whose text parts (`text`, `input_text`, `output_text`) are read. */
function contentSlots(holder: Json, key: string, role: string, slots: Slot[]): void {
  const content = holder[key];
  if (typeof content === 'string') {
    slots.push({ role, text: content, write: (text) => (holder[key] = text) });
    return;
  }
  if (!Array.isArray(content)) return;
  for (const part of content) {
    if (!isObject(part)) continue;
    if (typeof part.text === 'string' && (part.type === 'text' || part.type === 'input_text' || part.type === 'output_text')) {
      slots.push({ role, text: part.text, write: (text) => (part.text = text) });
    } else if (part.type === 'tool_result') {
      contentSlots(part, 'content', 'tool', slots);
    }
  }
}

function chatSlots(body: Json, slots: Slot[]): void {
  if (!Array.isArray(body.messages)) return;
  for (const message of body.messages) {
    if (isObject(message)) contentSlots(message, 'content', String(message.role), slots);
  }
}

function responsesSlots(body: Json, slots: Slot[]): void {
  if (typeof body.instructions === 'string') contentSlots(body, 'instructions', 'system', slots);
  if (typeof body.input === 'string') {
    contentSlots(body, 'input', 'user', slots);
    return;
  }
  if (!Array.isArray(body.input)) return;
  for (const item of body.input) {
    if (!isObject(item)) continue;
    if (item.type === 'function_call_output') contentSlots(item, 'output', 'tool', slots);
    else if (typeof item.role === 'string') contentSlots(item, 'content', item.role, slots);
  }
}

function messagesSlots(body: Json, slots: Slot[]): void {
  contentSlots(body, 'system', 'system', slots);
  if (!Array.isArray(body.messages)) return;
  for (const message of body.messages) {
    if (isObject(message)) contentSlots(message, 'content', String(message.role), slots);
  }
}

function slotsOf(shape: RequestShape, body: Json): Slot[] {
  const slots: Slot[] = [];
  if (shape === 'chat') chatSlots(body, slots);
  else if (shape === 'responses') responsesSlots(body, slots);
  else messagesSlots(body, slots);
  return slots;
}

/** The text segments of a request body, in order. */
export function readSegments(shape: RequestShape, body: Json): TextSegment[] {
  return slotsOf(shape, body).map(({ role, text }) => ({ role, text }));
}

/** `holder[key]` copied when it is a content array: its parts too (a tool result's content within). */
function copyContent(holder: Json, key: string): void {
  const content = holder[key];
  if (!Array.isArray(content)) return;
  holder[key] = content.map((part) => {
    if (!isObject(part)) return part;
    const copy = { ...part };
    if (copy.type === 'tool_result') copyContent(copy, 'content');
    return copy;
  });
}

function copyEntries(holder: Json, key: string, contentKeys: readonly string[]): void {
  const entries = holder[key];
  if (!Array.isArray(entries)) return;
  holder[key] = entries.map((entry) => {
    if (!isObject(entry)) return entry;
    const copy = { ...entry };
    for (const contentKey of contentKeys) copyContent(copy, contentKey);
    return copy;
  });
}

/**
 * A copy of `body` that rewrites and system prompts can change without touching `body`: the objects and
 * arrays that hold the request's text are copied (body, messages or input items, content arrays and their
 * parts); everything else (strings, images, tools...) is shared, as nothing here changes it. Cheaper than a
 * deep copy of a body that may carry megabytes of images.
 */
export function copyForRewrite(shape: RequestShape, body: Json): Json {
  const copy = { ...body };
  if (shape === 'responses') {
    copyContent(copy, 'instructions');
    copyEntries(copy, 'input', ['content', 'output']);
  } else {
    if (shape === 'messages') copyContent(copy, 'system');
    copyEntries(copy, 'messages', ['content']);
  }
  return copy;
}

/** A copy of `body` with each segment's text replaced by `texts` (same order as readSegments). */
export function writeSegments(shape: RequestShape, body: Json, texts: readonly string[]): Json {
  const copy = copyForRewrite(shape, body);
  const slots = slotsOf(shape, copy);
  for (let index = 0; index < slots.length && index < texts.length; index++) {
    const slot = slots[index] as Slot;
    const text = texts[index] as string;
    if (slot.text !== text) slot.write(text);
  }
  return copy;
}

const systemRoles = new Set(['system', 'developer']);

function prependText(holder: Json, key: string, content: string): void {
  const existing = holder[key];
  if (typeof existing === 'string') holder[key] = `${content}\n\n${existing}`;
  else if (Array.isArray(existing)) existing.unshift({ type: 'text', text: content });
  else holder[key] = content;
}

function applyChat(body: Json, mode: SystemPromptMode, content: string): void {
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
  const first = messages.find((message) => isObject(message) && systemRoles.has(String(message.role)));
  if (mode === 'decorator' && first) {
    prependText(first, 'content', content);
    return;
  }
  if (mode === 'inject' && first) return;
  const rest = mode === 'override' ? messages.filter((message) => !(isObject(message) && systemRoles.has(String(message.role)))) : messages;
  body.messages = [{ role: 'system', content }, ...rest];
}

function applyResponses(body: Json, mode: SystemPromptMode, content: string): void {
  const items = Array.isArray(body.input) ? (body.input as Json[]) : [];
  const hasSystemItem = items.some((item) => isObject(item) && systemRoles.has(String(item.role)));
  const hasInstructions = typeof body.instructions === 'string' && body.instructions !== '';
  if (mode === 'inject') {
    if (!hasInstructions && !hasSystemItem) body.instructions = content;
    return;
  }
  if (mode === 'decorator') {
    body.instructions = hasInstructions ? `${content}\n\n${body.instructions as string}` : content;
    return;
  }
  body.instructions = content;
  if (hasSystemItem) body.input = items.filter((item) => !(isObject(item) && systemRoles.has(String(item.role))));
}

function applyMessages(body: Json, mode: SystemPromptMode, content: string): void {
  const present = body.system !== undefined && body.system !== null && body.system !== '';
  if (mode === 'inject') {
    if (!present) body.system = content;
  } else if (mode === 'decorator' && present) {
    prependText(body, 'system', content);
  } else {
    body.system = content;
  }
}

/** Applies a system prompt to `body` in place (the caller works on a copy). */
export function applySystemPrompt(shape: RequestShape, body: Json, mode: SystemPromptMode, content: string): void {
  if (shape === 'chat') applyChat(body, mode, content);
  else if (shape === 'responses') applyResponses(body, mode, content);
  else applyMessages(body, mode, content);
}
