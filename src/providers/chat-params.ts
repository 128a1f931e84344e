/**
 * The top-level fields an OpenAI-shaped chat completions request may carry, per upstream API. The
 * translations (Messages -> chat, Responses -> chat) pass on only fields of OpenAI's chat API, and the
 * strict upstreams, which answer 400/422 to a field they do not define, get only their own fields.
 */

/** https://platform.openai.com/docs/api-reference/chat/create (request body). */
export const openAIChatParams: ReadonlySet<string> = new Set([
  'model',
  'messages',
  'audio',
  'frequency_penalty',
  'function_call',
  'functions',
  'logit_bias',
  'logprobs',
  'max_completion_tokens',
  'max_tokens',
  'metadata',
  'modalities',
  'n',
  'parallel_tool_calls',
  'prediction',
  'presence_penalty',
  'prompt_cache_key',
  'prompt_cache_retention',
  'reasoning_effort',
  'response_format',
  'safety_identifier',
  'seed',
  'service_tier',
  'stop',
  'store',
  'stream',
  'stream_options',
  'temperature',
  'tool_choice',
  'tools',
  'top_logprobs',
  'top_p',
  'user',
  'verbosity',
  'web_search_options',
]);

/**
 * https://console.groq.com/docs/api-reference#chat-create: OpenAI's fields without the audio, prediction,
 * caching and web search ones, plus Groq's own. Groq answers 400 "property 'x' is unsupported" to others.
 */
const notOnGroq = new Set(['audio', 'modalities', 'prediction', 'prompt_cache_key', 'prompt_cache_retention', 'safety_identifier', 'verbosity', 'web_search_options']);
export const groqChatParams: ReadonlySet<string> = new Set([
  ...[...openAIChatParams].filter((name) => !notOnGroq.has(name)),
  'citation_options',
  'compound_custom',
  'disable_tool_validation',
  'documents',
  'include_reasoning',
  'reasoning_format',
  'search_settings',
]);

/**
 * https://docs.mistral.ai/api/#tag/chat/operation/chat_completion_v1_chat_completions_post: Mistral
 * answers 422 extra_forbidden to any other field.
 */
export const mistralChatParams: ReadonlySet<string> = new Set([
  'model',
  'messages',
  'temperature',
  'top_p',
  'max_tokens',
  'stream',
  'stop',
  'random_seed',
  'response_format',
  'tools',
  'tool_choice',
  'presence_penalty',
  'frequency_penalty',
  'n',
  'prediction',
  'parallel_tool_calls',
  'prompt_mode',
  'safe_prompt',
]);

/**
 * Copies the fields of `body` a translation does not handle itself onto `chat` when OpenAI's chat API
 * defines them; the others (another API's fields: output_config, client_metadata...) are reported dropped.
 */
export function passChatParams(body: Record<string, unknown>, handled: ReadonlySet<string>, chat: Record<string, unknown>, dropped: string[]): void {
  for (const key in body) {
    if (handled.has(key) || body[key] === undefined) continue;
    if (openAIChatParams.has(key)) chat[key] = body[key];
    else dropped.push(key);
  }
}
