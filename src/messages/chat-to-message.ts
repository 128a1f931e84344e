/**
 * OpenAI chat completion -> Anthropic Message (https://docs.anthropic.com/en/api/messages, response):
 * content blocks thinking/text/tool_use, stop_reason end_turn | max_tokens | stop_sequence |
 * tool_use | refusal, usage input_tokens (excluding cache reads and writes, as Anthropic counts
 * them), output_tokens, cache_read_input_tokens, cache_creation_input_tokens.
 */
import { randomBytes } from 'node:crypto';
import type { Usage } from '../core/usage.ts';
import type { Json } from '../providers/types.ts';
import { encodeToolCallId } from '../responses/tool-call-ids.ts';

export function createMessageId(): string {
  return `msg_${randomBytes(12).toString('hex')}`;
}

export function createToolUseId(): string {
  return `toolu_${randomBytes(12).toString('hex')}`;
}

export function stopReason(finishReason: unknown): string {
  if (finishReason === 'length') return 'max_tokens';
  if (finishReason === 'tool_calls' || finishReason === 'function_call') return 'tool_use';
  if (finishReason === 'content_filter') return 'refusal';
  return 'end_turn';
}

export function messageUsage(usage: Usage | null): Json {
  if (!usage) return { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  return {
    input_tokens: Math.max(0, usage.inputTokens - usage.cachedTokens - usage.cacheWriteTokens),
    output_tokens: usage.outputTokens,
    cache_creation_input_tokens: usage.cacheWriteTokens,
    cache_read_input_tokens: usage.cachedTokens,
  };
}

/** Parses tool arguments; Anthropic's `input` must be an object. */
export function parseToolInput(text: unknown): Json {
  if (typeof text !== 'string' || text.trim() === '') return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Json) : { value: parsed };
  } catch {
    return {};
  }
}

export function chatCompletionToMessage(completion: Json, model: string, usage: Usage | null): Json {
  const choices = Array.isArray(completion.choices) ? (completion.choices as Json[]) : [];
  const choice = choices[0] ?? {};
  const message = (choice.message ?? {}) as Json;
  const content: Json[] = [];
  content.push(...thinkingContent(message));
  if (typeof message.content === 'string' && message.content !== '') content.push({ type: 'text', text: message.content });
  if (typeof message.refusal === 'string' && message.refusal !== '') content.push({ type: 'text', text: message.refusal });
  const toolCalls = Array.isArray(message.tool_calls) ? (message.tool_calls as Json[]) : [];
  for (const call of toolCalls) {
    const fn = (call.function ?? {}) as Json;
    const id = encodeToolCallId(typeof call.id === 'string' ? call.id : createToolUseId(), call.extra_content);
    content.push({ type: 'tool_use', id, name: String(fn.name ?? ''), input: parseToolInput(fn.arguments) });
  }
  return {
    id: createMessageId(),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: toolCalls.length > 0 && choice.finish_reason === 'stop' ? 'tool_use' : stopReason(choice.finish_reason),
    stop_sequence: null,
    usage: messageUsage(usage),
  };
}

/**
 * Thinking blocks of a chat message: signed `thinking_blocks` (the Anthropic provider's) as they
 * are, otherwise `reasoning_content` as an unsigned thinking block.
 */
export function thinkingContent(message: Json): Json[] {
  if (Array.isArray(message.thinking_blocks) && message.thinking_blocks.length > 0) {
    return (message.thinking_blocks as Json[]).map((block) =>
      block.type === 'redacted_thinking'
        ? { type: 'redacted_thinking', data: block.data }
        : { type: 'thinking', thinking: String(block.thinking ?? ''), signature: String(block.signature ?? '') },
    );
  }
  const reasoning = message.reasoning_content ?? message.reasoning;
  return typeof reasoning === 'string' && reasoning !== '' ? [{ type: 'thinking', thinking: reasoning, signature: '' }] : [];
}
