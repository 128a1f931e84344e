/**
 * Anthropic Messages response -> OpenAI chat.completion (https://docs.anthropic.com/en/api/messages).
 * Pure: no I/O; `created` is passed in.
 */
import type { Usage } from '../../core/usage.ts';
import { tokenCount, usageToOpenAIChat } from '../../core/usage.ts';
import type { Json } from '../types.ts';


/**
 * Anthropic usage -> gateway Usage. Anthropic's `input_tokens` excludes the cached prefix, so the OpenAI
 * prompt_tokens is input + cache_read + cache_creation; cache reads are `cached_tokens`, writes `cache_write_tokens`.
 */
export function usageFromAnthropic(raw: unknown): Usage | null {
  if (raw === null || typeof raw !== 'object') return null;
  const usage = raw as Json;
  const cacheRead = tokenCount(usage.cache_read_input_tokens);
  const cacheWrite = tokenCount(usage.cache_creation_input_tokens);
  const input = tokenCount(usage.input_tokens) + cacheRead + cacheWrite;
  const output = tokenCount(usage.output_tokens);
  return {
    inputTokens: input,
    outputTokens: output,
    totalTokens: input + output,
    cachedTokens: cacheRead,
    reasoningTokens: 0,
    cacheWriteTokens: cacheWrite,
  };
}

/** https://docs.anthropic.com/en/api/messages#response-stop-reason */
export function finishReasonFromAnthropic(stopReason: unknown): string | null {
  switch (stopReason) {
    case null:
    case undefined:
      return null;
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

export interface ResponseTranslationOptions {
  created: number;
  /** The tool that carries response_format json_schema output; its input becomes the message content. */
  jsonToolName: string | null;
}

export function fromAnthropicMessage(message: Json, options: ResponseTranslationOptions): { body: Json; usage: Usage | null } {
  const blocks = Array.isArray(message.content) ? (message.content as Json[]) : [];
  let text = '';
  let hasText = false;
  let reasoning = '';
  const signedBlocks: Json[] = [];
  const toolCalls: Json[] = [];
  const annotations: Json[] = [];
  let jsonAnswered = false;
  for (const block of blocks) {
    if (block.type === 'text' && typeof block.text === 'string') {
      const start = text.length;
      text += block.text;
      hasText = true;
      // Web search citations -> OpenAI url_citation annotations over the cited text block.
      for (const citation of Array.isArray(block.citations) ? (block.citations as Json[]) : []) {
        if (citation.type === 'web_search_result_location' && typeof citation.url === 'string') {
          annotations.push({
            type: 'url_citation',
            url_citation: { start_index: start, end_index: text.length, url: citation.url, title: citation.title ?? '' },
          });
        }
      }
    } else if (block.type === 'thinking') {
      const thinking = typeof block.thinking === 'string' ? block.thinking : '';
      reasoning += thinking;
      signedBlocks.push({ type: 'thinking', thinking, signature: block.signature ?? '' });
    } else if (block.type === 'redacted_thinking') {
      signedBlocks.push({ type: 'redacted_thinking', data: block.data });
    } else if (block.type === 'tool_use') {
      if (options.jsonToolName !== null && block.name === options.jsonToolName) {
        // The forced JSON tool answers instead of prose (text before it would break the JSON).
        text = JSON.stringify(block.input ?? {});
        hasText = true;
        jsonAnswered = true;
      } else {
        toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
      }
    }
  }
  const assistant: Json = { role: 'assistant', content: hasText ? text : null, refusal: null };
  if (reasoning) assistant.reasoning_content = reasoning;
  if (signedBlocks.length > 0) assistant.thinking_blocks = signedBlocks;
  if (toolCalls.length > 0) assistant.tool_calls = toolCalls;
  if (annotations.length > 0) assistant.annotations = annotations;
  let finishReason = finishReasonFromAnthropic(message.stop_reason);
  if (jsonAnswered && finishReason === 'tool_calls') finishReason = 'stop';
  const usage = usageFromAnthropic(message.usage);
  const body: Json = {
    id: message.id,
    object: 'chat.completion',
    created: options.created,
    model: message.model,
    choices: [{ index: 0, message: assistant, logprobs: null, finish_reason: finishReason }],
  };
  if (usage) body.usage = usageToOpenAIChat(usage);
  return { body, usage };
}
