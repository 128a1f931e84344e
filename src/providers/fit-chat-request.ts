/**
 * Fits a translated chat request (from the Messages or Responses API) to the provider type and model
 * that serve it: parameter names, OpenAI-only parameters, reasoning where the model cannot reason, and
 * max_tokens above the model's known output limit (clamped).
 * What is removed is reported in X-Modelgate-Dropped-Params under the name the client sent.
 */
import { clampMaxTokens } from '../usage/model-limits.ts';
import type { Json } from './types.ts';

/** Provider types that speak OpenAI's own chat API (OpenAI-only parameters, `max_completion_tokens`). */
const openAITypes = new Set(['openai', 'azure']);

/** Native provider types that translate (or report) every chat parameter themselves. */
const nativeTypes = new Set(['anthropic', 'gemini']);

/**
 * Provider types whose chat API rejects a `user` field: Mistral refuses unknown fields with 422
 * and has no `user` parameter (https://docs.mistral.ai/api/#tag/chat/operation/chat_completion_v1_chat_completions_post).
 */
const rejectsUserField = new Set(['mistral']);

/** Chat parameters the translations produce that only OpenAI's chat API knows, with the field they came from. */
const openAIOnlyParams: Record<string, string> = {
  verbosity: 'text.verbosity',
  prompt_cache_key: 'prompt_cache_key',
  safety_identifier: 'safety_identifier',
  service_tier: 'service_tier',
};

/**
 * Whether a model takes `reasoning_effort`. OpenAI: the o-series and GPT-5 reasoning models
 * (https://platform.openai.com/docs/guides/reasoning); GPT-4o/4.1 and gpt-5-chat answer 400. Groq: the
 * gpt-oss and Qwen 3 models (https://console.groq.com/docs/reasoning). Mistral has no such field.
 * Other types (xAI, OpenRouter, DeepSeek...) pass it on; the native ones map it.
 */
export function takesReasoningEffort(providerType: string, model: string): boolean {
  const bare = model.slice(model.lastIndexOf('/') + 1).toLowerCase();
  if (openAITypes.has(providerType)) return /^(o\d|gpt-5|codex)/.test(bare) && !/^gpt-5(\.\d+)?-chat/.test(bare);
  if (providerType === 'groq') return /gpt-oss|qwen3/.test(bare);
  return providerType !== 'mistral';
}

export interface FitTarget {
  providerType: string;
  /** The upstream model id. */
  model: string;
}

/**
 * Fits the request in place. OpenAI and Azure get `max_completion_tokens` (their reasoning models reject
 * `max_tokens`); other OpenAI-compatible providers keep `max_tokens` and lose the OpenAI-only parameters.
 * `sources` names the client's field behind a chat parameter (`reasoning_effort` <- `thinking`).
 */
export function adaptChatForProvider(chat: Json, target: FitTarget, droppedParams: string[], sources: Record<string, string> = {}): void {
  const { providerType } = target;
  if (rejectsUserField.has(providerType) && chat.user !== undefined) {
    // The translations fill `user` from metadata.user_id, which Claude Code always sends.
    delete chat.user;
    droppedParams.push('user');
  }
  clampMaxTokens(chat, target.model, droppedParams, sources);
  if (chat.reasoning_effort !== undefined && !takesReasoningEffort(providerType, target.model)) {
    delete chat.reasoning_effort;
    droppedParams.push(sources.reasoning_effort ?? 'reasoning_effort');
  }
  if (openAITypes.has(providerType)) {
    if (chat.max_tokens !== undefined) {
      chat.max_completion_tokens = chat.max_tokens;
      delete chat.max_tokens;
    }
    return;
  }
  if (nativeTypes.has(providerType)) return;
  for (const [param, source] of Object.entries(openAIOnlyParams)) {
    if (chat[param] !== undefined) {
      delete chat[param];
      droppedParams.push(source);
    }
  }
}
