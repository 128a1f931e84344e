/**
 * Usage and model read from a provider's own answer, JSON or SSE, as relayed by the passthrough:
 * - OpenAI chat / embeddings / Responses: `usage` (https://platform.openai.com/docs/api-reference/chat/object),
 *   in streams the chunk that carries `usage` (https://platform.openai.com/docs/api-reference/chat/streaming)
 *   or the `response.completed` event's `response.usage` (https://platform.openai.com/docs/api-reference/responses-streaming).
 * - Anthropic Messages: `usage`; in streams `message_start.message.usage` then the cumulative
 *   `message_delta.usage` (https://docs.anthropic.com/en/docs/build-with-claude/streaming#event-types).
 * - Gemini generateContent: `usageMetadata`, in streams on every chunk, the last one final
 *   (https://ai.google.dev/api/generate-content#UsageMetadata).
 */
import { type Usage, usageFromOpenAI } from '../core/usage.ts';
import { usageFromAnthropic } from '../providers/anthropic/anthropic-response.ts';
import { usageFromGemini } from '../providers/gemini/gemini-response-translation.ts';
import type { Json } from '../providers/types.ts';
import type { NativeFormat } from './passthrough-targets.ts';

export interface NativeReading {
  usage: Usage | null;
  model: string | null;
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function stringOr(value: unknown, fallback: string | null): string | null {
  return typeof value === 'string' && value !== '' ? value : fallback;
}

/** Usage and model of a whole JSON answer. */
export function readNativeBody(format: NativeFormat, body: unknown): NativeReading {
  // Gemini's streamGenerateContent without alt=sse answers with a JSON array of responses.
  if (Array.isArray(body) && format === 'gemini') {
    const reader = createNativeStreamReader(format);
    for (const item of body) reader.addParsed(item);
    return reader.reading();
  }
  if (!isObject(body)) return { usage: null, model: null };
  if (format === 'gemini') return { usage: usageFromGemini(body.usageMetadata), model: stringOr(body.modelVersion, null) };
  if (format === 'anthropic') return { usage: usageFromAnthropic(body.usage), model: stringOr(body.model, null) };
  // A Responses object keeps its usage at the top level too; a batch or file object has none.
  return { usage: isObject(body.usage) ? usageFromOpenAI(body.usage) : null, model: stringOr(body.model, null) };
}

/** Follows a stream event by event; `reading()` is final once the stream ended. */
export interface NativeStreamReader {
  add(event: string | undefined, data: string): void;
  addParsed(parsed: unknown, event?: string): void;
  reading(): NativeReading;
}

export function createNativeStreamReader(format: NativeFormat): NativeStreamReader {
  let usage: Usage | null = null;
  let model: string | null = null;
  // Anthropic reports input tokens at the start and cumulative output tokens in message_delta.
  const anthropicUsage: Json = {};
  const reader: NativeStreamReader = {
    add(event, data) {
      if (data === '[DONE]') return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(data);
      } catch {
        return;
      }
      reader.addParsed(parsed, event);
    },
    addParsed(parsed, event) {
      if (!isObject(parsed)) return;
      if (format === 'gemini') {
        model = stringOr(parsed.modelVersion, model);
        usage = usageFromGemini(parsed.usageMetadata) ?? usage;
        return;
      }
      if (format === 'anthropic') {
        const type = stringOr(parsed.type, event ?? null);
        const message = isObject(parsed.message) ? parsed.message : null;
        if (type === 'message_start' && message) {
          model = stringOr(message.model, model);
          if (isObject(message.usage)) Object.assign(anthropicUsage, message.usage);
        } else if (type === 'message_delta' && isObject(parsed.usage)) {
          for (const [name, value] of Object.entries(parsed.usage)) if (value !== null && value !== undefined) anthropicUsage[name] = value;
        } else {
          return;
        }
        usage = usageFromAnthropic(anthropicUsage);
        return;
      }
      const response = isObject(parsed.response) ? parsed.response : null;
      if (response) {
        model = stringOr(response.model, model);
        if (isObject(response.usage)) usage = usageFromOpenAI(response.usage);
        return;
      }
      model = stringOr(parsed.model, model);
      if (isObject(parsed.usage)) usage = usageFromOpenAI(parsed.usage);
    },
    reading: () => ({ usage, model }),
  };
  return reader;
}
