/**
 * Pure translation of Gemini generateContent answers (https://ai.google.dev/api/generate-content#response-body),
 * whole and streamed, into OpenAI chat completions; the request side is in gemini-chat-translation.ts.
 * docs/providers-gemini.md has the full table (finish reasons, thought signatures, usage).
 */
import { tokenCount, type Usage, usageToOpenAIChat } from '../../core/usage.ts';
import type { Json } from '../types.ts';
import { isObject } from './gemini-chat-translation.ts';

const contentFilterReasons = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/** Gemini finishReason -> OpenAI finish_reason. */
export function mapFinishReason(reason: unknown, hasToolCalls: boolean): string | null {
  if (reason === undefined || reason === null || reason === '') return null;
  if (typeof reason === 'string' && contentFilterReasons.has(reason)) return 'content_filter';
  if (reason === 'MAX_TOKENS') return 'length';
  if (hasToolCalls) return 'tool_calls';
  return 'stop';
}

/** Gemini usageMetadata -> gateway Usage. Thinking tokens count as output, as OpenAI counts reasoning tokens. */
export function usageFromGemini(raw: unknown): Usage | null {
  if (!isObject(raw)) return null;
  const input = tokenCount(raw.promptTokenCount) + tokenCount(raw.toolUsePromptTokenCount);
  const reasoning = tokenCount(raw.thoughtsTokenCount);
  const output = tokenCount(raw.candidatesTokenCount) + reasoning;
  return {
    inputTokens: input,
    outputTokens: output,
    totalTokens: tokenCount(raw.totalTokenCount, input + output),
    cachedTokens: tokenCount(raw.cachedContentTokenCount),
    reasoningTokens: reasoning,
    cacheWriteTokens: 0,
  };
}

export interface ResponseIdentity {
  id: string;
  model: string;
  created: number;
}

export function newToolCallId(): string {
  return `call_${crypto.randomUUID().replaceAll('-', '').slice(0, 24)}`;
}

function toolCallFromPart(part: Json, makeId: () => string): Json {
  const call = part.functionCall as Json;
  const toolCall: Json = {
    id: typeof call.id === 'string' && call.id !== '' ? call.id : makeId(),
    type: 'function',
    function: { name: String(call.name ?? ''), arguments: JSON.stringify(isObject(call.args) ? call.args : {}) },
  };
  if (typeof part.thoughtSignature === 'string') toolCall.extra_content = { google: { thought_signature: part.thoughtSignature } };
  return toolCall;
}

interface CandidateParts {
  text: string;
  reasoning: string;
  toolCalls: Json[];
  hasText: boolean;
  /** The last signature Gemini put on a text (or thought) part. */
  textSignature: string | undefined;
}

function readParts(parts: unknown, makeId: () => string): CandidateParts {
  const result: CandidateParts = { text: '', reasoning: '', toolCalls: [], hasText: false, textSignature: undefined };
  if (!Array.isArray(parts)) return result;
  for (const part of parts as unknown[]) {
    if (!isObject(part)) continue;
    if (isObject(part.functionCall)) result.toolCalls.push(toolCallFromPart(part, makeId));
    else if (typeof part.text === 'string') {
      if (typeof part.thoughtSignature === 'string' && part.thoughtSignature !== '') result.textSignature = part.thoughtSignature;
      if (part.thought === true) result.reasoning += part.text;
      else {
        result.text += part.text;
        result.hasText = true;
      }
    }
  }
  return result;
}

/** Gemini GenerateContentResponse -> OpenAI chat.completion. */
export function geminiResponseToChat(response: Json, identity: ResponseIdentity, makeId: () => string = newToolCallId): Json {
  const candidates = Array.isArray(response.candidates) ? (response.candidates as unknown[]) : [];
  const choices: Json[] = candidates.filter(isObject).map((candidate, position) => {
    const parts = readParts((candidate.content as Json | undefined)?.parts, makeId);
    const message: Json = { role: 'assistant', content: parts.hasText || parts.toolCalls.length === 0 ? parts.text : null, refusal: null };
    if (parts.text === '' && parts.toolCalls.length === 0 && contentFilterReasons.has(String(candidate.finishReason)))
      message.content = null;
    if (parts.reasoning) message.reasoning_content = parts.reasoning;
    if (parts.toolCalls.length > 0) message.tool_calls = parts.toolCalls;
    if (parts.textSignature) message.extra_content = { google: { thought_signature: parts.textSignature } };
    return {
      index: typeof candidate.index === 'number' ? candidate.index : position,
      message,
      logprobs: null,
      finish_reason: mapFinishReason(candidate.finishReason, parts.toolCalls.length > 0) ?? 'stop',
    };
  });
  if (choices.length === 0) {
    // The prompt itself was blocked (promptFeedback.blockReason): no candidates at all.
    const blocked = isObject(response.promptFeedback) && response.promptFeedback.blockReason !== undefined;
    choices.push({
      index: 0,
      message: { role: 'assistant', content: null, refusal: null },
      logprobs: null,
      finish_reason: blocked ? 'content_filter' : 'stop',
    });
  }
  const result: Json = { id: identity.id, object: 'chat.completion', created: identity.created, model: identity.model, choices };
  const usage = usageFromGemini(response.usageMetadata);
  if (usage) result.usage = usageToOpenAIChat(usage);
  return result;
}

/** Stateful translation of streamGenerateContent events into chat.completion.chunk objects. */
export interface GeminiStreamTranslator {
  /** Chunks for one Gemini event. */
  push(event: Json): Json[];
  /** The trailing usage-only chunk (`choices: []`), or null when Gemini sent no usage. */
  usageChunk(): Json | null;
  usage(): Usage | null;
}

export function createGeminiStreamTranslator(identity: ResponseIdentity, makeId: () => string = newToolCallId): GeminiStreamTranslator {
  let usage: Usage | null = null;
  const started = new Set<number>();
  const toolCallCounts = new Map<number, number>();
  const finished = new Set<number>();
  const chunk = (choices: Json[]): Json => ({
    id: identity.id,
    object: 'chat.completion.chunk',
    created: identity.created,
    model: identity.model,
    choices,
  });

  return {
    push(event) {
      usage = usageFromGemini(event.usageMetadata) ?? usage;
      const candidates = Array.isArray(event.candidates) ? (event.candidates as unknown[]).filter(isObject) : [];
      const choices: Json[] = [];
      candidates.forEach((candidate, position) => {
        const index = typeof candidate.index === 'number' ? candidate.index : position;
        const parts = readParts((candidate.content as Json | undefined)?.parts, makeId);
        const delta: Json = {};
        if (!started.has(index)) {
          started.add(index);
          delta.role = 'assistant';
        }
        if (parts.reasoning) delta.reasoning_content = parts.reasoning;
        if (parts.hasText && parts.text !== '') delta.content = parts.text;
        if (parts.textSignature) delta.extra_content = { google: { thought_signature: parts.textSignature } };
        if (parts.toolCalls.length > 0) {
          const already = toolCallCounts.get(index) ?? 0;
          delta.tool_calls = parts.toolCalls.map((call, offset) => ({ index: already + offset, ...call }));
          toolCallCounts.set(index, already + parts.toolCalls.length);
        }
        const finishReason = mapFinishReason(candidate.finishReason, (toolCallCounts.get(index) ?? 0) > 0);
        if (finishReason) finished.add(index);
        if (Object.keys(delta).length === 0 && !finishReason) return;
        if (delta.role && delta.content === undefined && delta.tool_calls === undefined && delta.reasoning_content === undefined)
          delta.content = '';
        choices.push({ index, delta, logprobs: null, finish_reason: finishReason });
      });
      if (candidates.length === 0 && isObject(event.promptFeedback) && event.promptFeedback.blockReason !== undefined && !finished.has(0)) {
        finished.add(0);
        const delta: Json = started.has(0) ? {} : { role: 'assistant', content: '' };
        started.add(0);
        choices.push({ index: 0, delta, logprobs: null, finish_reason: 'content_filter' });
      }
      return choices.length > 0 ? [chunk(choices)] : [];
    },
    usageChunk() {
      if (!usage) return null;
      return { ...chunk([]), usage: usageToOpenAIChat(usage) };
    },
    usage: () => usage,
  };
}
