/** Token usage in one shape whatever the provider reported. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** Input tokens served from the provider's prompt cache. */
  cachedTokens: number;
  /** Output tokens spent on reasoning. */
  reasoningTokens: number;
  /** Input tokens written to the provider's prompt cache (Anthropic). */
  cacheWriteTokens: number;
}

/**
 * Largest token count believed: 10^9, a hundred times the largest context window offered today (10M tokens,
 * Llama 4 Scout: https://ai.meta.com/blog/llama-4-multimodal-intelligence/).
 */
export const maxTokenCount = 1_000_000_000;

/**
 * A token count as reported by an upstream, or `fallback` (0) when it is not one: not a number, negative,
 * or above `maxTokenCount`. Invalid counts are dropped, never stored; fractions are rounded.
 */
export function tokenCount(value: unknown, fallback = 0): number {
  return typeof value === 'number' && value >= 0 && value <= maxTokenCount ? Math.round(value) : fallback;
}

/** Reads an OpenAI `usage` object (chat, embeddings or responses flavour). */
export function usageFromOpenAI(raw: unknown): Usage | null {
  if (raw === null || typeof raw !== 'object') return null;
  const usage = raw as Record<string, unknown>;
  const input = tokenCount(usage.prompt_tokens ?? usage.input_tokens);
  const output = tokenCount(usage.completion_tokens ?? usage.output_tokens);
  const promptDetails = (usage.prompt_tokens_details ?? usage.input_tokens_details) as Record<string, unknown> | undefined;
  const completionDetails = (usage.completion_tokens_details ?? usage.output_tokens_details) as
    | Record<string, unknown>
    | undefined;
  return {
    inputTokens: input,
    outputTokens: output,
    totalTokens: tokenCount(usage.total_tokens, input + output),
    cachedTokens: tokenCount(promptDetails?.cached_tokens),
    reasoningTokens: tokenCount(completionDetails?.reasoning_tokens),
    cacheWriteTokens: tokenCount(promptDetails?.cache_write_tokens ?? usage.cache_creation_input_tokens),
  };
}

/** Renders usage as an OpenAI chat `usage` object. */
export function usageToOpenAIChat(usage: Usage): Record<string, unknown> {
  const result: Record<string, unknown> = {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.totalTokens,
  };
  if (usage.cachedTokens > 0 || usage.cacheWriteTokens > 0) {
    const details: Record<string, number> = { cached_tokens: usage.cachedTokens };
    if (usage.cacheWriteTokens > 0) details.cache_write_tokens = usage.cacheWriteTokens;
    result.prompt_tokens_details = details;
  }
  if (usage.reasoningTokens > 0) result.completion_tokens_details = { reasoning_tokens: usage.reasoningTokens };
  return result;
}
