/**
 * The canonical chat completion (and its stream) -> Gemini GenerateContentResponse
 * (https://ai.google.dev/api/generate-content#generatecontentresponse): `candidates[].content.parts` (text,
 * `functionCall` with the thought signature back on the part), `finishReason`, `usageMetadata`
 * (promptTokenCount, candidatesTokenCount, thoughtsTokenCount, cachedContentTokenCount, totalTokenCount),
 * `modelVersion` and `responseId`. Pure: no I/O.
 */
import { type Usage, usageFromOpenAI } from '../core/usage.ts';
import { thoughtSignatureOf } from '../providers/gemini/gemini-chat-translation.ts';
import type { Json } from '../providers/types.ts';

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** OpenAI finish_reason -> Gemini FinishReason (a function call ends with STOP, as Gemini's own answers do). */
export function geminiFinishReason(reason: unknown): string {
  if (reason === 'length') return 'MAX_TOKENS';
  if (reason === 'content_filter') return 'SAFETY';
  return 'STOP';
}

/** Gateway usage -> Gemini usageMetadata; candidatesTokenCount excludes thinking, as Gemini reports it. */
export function usageMetadata(usage: Usage): Json {
  const metadata: Json = {
    promptTokenCount: usage.inputTokens,
    candidatesTokenCount: Math.max(0, usage.outputTokens - usage.reasoningTokens),
    totalTokenCount: usage.totalTokens,
  };
  if (usage.reasoningTokens > 0) metadata.thoughtsTokenCount = usage.reasoningTokens;
  if (usage.cachedTokens > 0) metadata.cachedContentTokenCount = usage.cachedTokens;
  return metadata;
}

function parseArgs(text: unknown): Json {
  if (isObject(text)) return text;
  if (typeof text !== 'string' || text.trim() === '') return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    return isObject(parsed) ? parsed : { value: parsed };
  } catch {
    return { arguments: text };
  }
}

export function functionCallPart(toolCall: Json): Json {
  const fn = isObject(toolCall.function) ? toolCall.function : {};
  const part: Json = { functionCall: { name: String(fn.name ?? ''), args: parseArgs(fn.arguments) } };
  if (typeof toolCall.id === 'string' && toolCall.id !== '') (part.functionCall as Json).id = toolCall.id;
  const signature = thoughtSignatureOf(toolCall);
  if (signature) part.thoughtSignature = signature;
  return part;
}

function messageParts(message: Json): Json[] {
  const parts: Json[] = [];
  const reasoning = message.reasoning_content ?? message.reasoning;
  if (typeof reasoning === 'string' && reasoning !== '') parts.push({ text: reasoning, thought: true });
  const content = message.content;
  const text =
    typeof content === 'string'
      ? content
      : Array.isArray(content)
        ? content.map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : '')).join('')
        : '';
  if (text !== '') {
    const part: Json = { text };
    const signature = thoughtSignatureOf(message);
    if (signature) part.thoughtSignature = signature;
    parts.push(part);
  }
  if (Array.isArray(message.tool_calls)) for (const call of message.tool_calls) if (isObject(call)) parts.push(functionCallPart(call));
  return parts;
}

/** A chat.completion body -> a GenerateContentResponse for `model` (as the client named it). */
export function chatCompletionToGemini(completion: unknown, model: string, usage: Usage | null): Json {
  const body = isObject(completion) ? completion : {};
  const choices = Array.isArray(body.choices) ? body.choices.filter(isObject) : [];
  const candidates = choices.map((choice, position) => {
    const message = isObject(choice.message) ? choice.message : {};
    return {
      content: { role: 'model', parts: messageParts(message) },
      finishReason: geminiFinishReason(choice.finish_reason),
      index: typeof choice.index === 'number' ? choice.index : position,
    };
  });
  const response: Json = { candidates };
  const counted = usage ?? usageFromOpenAI(body.usage);
  if (counted) response.usageMetadata = usageMetadata(counted);
  response.modelVersion = typeof body.model === 'string' && body.model !== '' ? body.model : model;
  if (typeof body.id === 'string') response.responseId = body.id;
  return response;
}

interface ToolCallDraft {
  id: string;
  name: string;
  arguments: string;
  extra_content?: unknown;
}

/** Stateful translation of chat.completion.chunk objects into streamed GenerateContentResponses. */
export interface GeminiResponseStream {
  /** Responses for one chunk: text as it comes; function calls once their arguments are complete. */
  add(chunk: Json): Json[];
  /** The last response (pending function calls, finishReason and usageMetadata). */
  finish(usage: Usage | null): Json;
  /** The whole answer so far as one response (for the audit log). */
  assembled(usage: Usage | null): Json;
}

export function createGeminiResponseStream(model: string): GeminiResponseStream {
  let modelVersion = model;
  let responseId: string | undefined;
  let finishReason: unknown = null;
  let text = '';
  const drafts = new Map<number, ToolCallDraft>();
  const emittedCalls: Json[] = [];

  const response = (parts: Json[], final: { finishReason?: string; usage?: Usage | null } = {}): Json => {
    const candidate: Json = { content: { role: 'model', parts }, index: 0 };
    if (final.finishReason) candidate.finishReason = final.finishReason;
    const result: Json = { candidates: [candidate] };
    if (final.usage) result.usageMetadata = usageMetadata(final.usage);
    result.modelVersion = modelVersion;
    if (responseId) result.responseId = responseId;
    return result;
  };

  const flushCalls = (): Json[] => {
    const parts = [...drafts.entries()]
      .sort(([left], [right]) => left - right)
      .map(([, draft]) => functionCallPart({ id: draft.id, function: { name: draft.name, arguments: draft.arguments }, extra_content: draft.extra_content }));
    drafts.clear();
    emittedCalls.push(...parts);
    return parts;
  };

  return {
    add(chunk) {
      if (typeof chunk.model === 'string' && chunk.model !== '') modelVersion = chunk.model;
      if (typeof chunk.id === 'string') responseId = chunk.id;
      const choices = Array.isArray(chunk.choices) ? chunk.choices.filter(isObject) : [];
      const out: Json[] = [];
      for (const choice of choices) {
        if ((choice.index ?? 0) !== 0) continue;
        const delta = isObject(choice.delta) ? choice.delta : {};
        const parts: Json[] = [];
        const reasoning = delta.reasoning_content ?? delta.reasoning;
        if (typeof reasoning === 'string' && reasoning !== '') parts.push({ text: reasoning, thought: true });
        if (typeof delta.content === 'string' && delta.content !== '') {
          text += delta.content;
          const part: Json = { text: delta.content };
          const signature = thoughtSignatureOf(delta);
          if (signature) part.thoughtSignature = signature;
          parts.push(part);
        }
        if (Array.isArray(delta.tool_calls)) {
          for (const call of delta.tool_calls.filter(isObject)) {
            const index = typeof call.index === 'number' ? call.index : drafts.size;
            const fn = isObject(call.function) ? call.function : {};
            let draft = drafts.get(index);
            if (!draft) {
              draft = { id: typeof call.id === 'string' ? call.id : '', name: '', arguments: '' };
              drafts.set(index, draft);
            }
            if (typeof fn.name === 'string') draft.name += fn.name;
            if (typeof fn.arguments === 'string') draft.arguments += fn.arguments;
            if (call.extra_content !== undefined) draft.extra_content = call.extra_content;
          }
        }
        if (choice.finish_reason !== null && choice.finish_reason !== undefined) finishReason = choice.finish_reason;
        if (parts.length > 0) out.push(response(parts));
      }
      return out;
    },
    finish(usage) {
      return response(flushCalls(), { finishReason: geminiFinishReason(finishReason), usage });
    },
    assembled(usage) {
      const parts: Json[] = text === '' ? [] : [{ text }];
      parts.push(...emittedCalls);
      return response(parts, { finishReason: geminiFinishReason(finishReason), usage });
    },
  };
}
