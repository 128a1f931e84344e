/**
 * Thinking on Anthropic requests: how an OpenAI `reasoning_effort` becomes `thinking` (a budget, or
 * adaptive thinking with output_config.effort), https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking.
 */
import type { Json } from '../types.ts';
import { isObject } from './anthropic-request-messages.ts';

/** Anthropic requires max_tokens; used when the client sets neither max_tokens nor max_completion_tokens. */
export const defaultAnthropicMaxTokens = 4096;
/** Extra room for the answer above the thinking budget when max_tokens is defaulted with thinking on. */
export const thinkingAnswerTokens = 4096;
/** reasoning_effort -> thinking.budget_tokens (Anthropic's minimum budget is 1024). */
export const thinkingBudgets: Record<string, number> = { minimal: 1024, low: 2048, medium: 8192, high: 16384, xhigh: 32768 };
/** reasoning_effort -> output_config.effort, for adaptive thinking. */
export const thinkingEfforts: Record<string, string> = { minimal: 'low', low: 'low', medium: 'medium', high: 'high', xhigh: 'max' };

/**
 * How a model takes thinking: `enabled` with budget_tokens (Claude 3.7 to 4.5), or `adaptive` with
 * output_config.effort (Claude 4.6 and later; Opus 4.7 and later refuse `enabled`).
 * https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking. Guessed from the model id; the
 * provider switches style when the API refuses the guess.
 */
export type ThinkingStyle = 'enabled' | 'adaptive';

export function thinkingStyleFor(model: unknown): ThinkingStyle {
  if (typeof model !== 'string') return 'enabled';
  const match = /claude-[a-z]+-(\d{1,2})(?:[-.](\d{1,2}))?(?!\d)/.exec(model.toLowerCase());
  if (!match) return 'enabled';
  const major = Number(match[1]);
  const minor = match[2] === undefined ? 0 : Number(match[2]);
  return major > 4 || (major === 4 && minor >= 6) ? 'adaptive' : 'enabled';
}

/**
 * Sets thinking (and max_tokens) on an Anthropic request for an OpenAI reasoning_effort, in the given style.
 * Returns false when the effort cannot be honoured (an `enabled` budget needs max_tokens above 1024).
 */
export function applyReasoningEffort(out: Json, effort: string, style: ThinkingStyle, clientMaxTokens: number | undefined): boolean {
  const budget = thinkingBudgets[effort] ?? thinkingBudgets.medium ?? 8192;
  const outputConfig = isObject(out.output_config) ? { ...out.output_config } : {};
  delete outputConfig.effort;
  if (style === 'adaptive') {
    // display: summarized, so that reasoning_content is filled (Opus 4.7 and later default to omitted).
    out.thinking = { type: 'adaptive', display: 'summarized' };
    outputConfig.effort = thinkingEfforts[effort] ?? 'medium';
  } else if (clientMaxTokens === undefined) {
    out.thinking = { type: 'enabled', budget_tokens: budget };
  } else if (clientMaxTokens > 1024) {
    out.thinking = { type: 'enabled', budget_tokens: Math.max(1024, Math.min(budget, clientMaxTokens - 1)) };
  } else {
    return false;
  }
  if (Object.keys(outputConfig).length > 0) out.output_config = outputConfig;
  else delete out.output_config;
  out.max_tokens = clientMaxTokens ?? Math.max(defaultAnthropicMaxTokens, budget + thinkingAnswerTokens);
  return true;
}

