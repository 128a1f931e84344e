/**
 * OpenAI chat completion -> OpenAI Response object, following
 * https://platform.openai.com/docs/api-reference/responses/object (output items `message` with
 * `output_text` parts, `function_call`, `reasoning`; usage with input/output token details;
 * `status` completed | incomplete with `incomplete_details.reason` max_output_tokens | content_filter).
 */
import type { Usage } from '../core/usage.ts';
import type { Json } from '../providers/types.ts';
import { createItemId } from './ids.ts';
import { customToolInput, customToolNames } from './responses-to-chat.ts';
import { encodeThinkingBlocks, encodeToolCallId } from './tool-call-ids.ts';

/** What the Response object echoes from its request. */
export interface ResponseShell {
  id: string;
  createdAt: number;
  model: string;
  request: Json;
}

/** The Response object without output, in a given status; the stream's lifecycle events use it too. */
export function responseEnvelope(shell: ResponseShell, status: string): Json {
  const request = shell.request;
  const text = request.text !== null && typeof request.text === 'object' ? request.text : { format: { type: 'text' } };
  const reasoning = request.reasoning !== null && typeof request.reasoning === 'object' ? (request.reasoning as Json) : {};
  return {
    id: shell.id,
    object: 'response',
    created_at: shell.createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    max_tool_calls: request.max_tool_calls ?? null,
    model: shell.model,
    output: [],
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: request.previous_response_id ?? null,
    reasoning: { effort: reasoning.effort ?? null, summary: reasoning.summary ?? null },
    service_tier: request.service_tier ?? 'default',
    store: request.store !== false,
    temperature: request.temperature ?? 1,
    text,
    tool_choice: request.tool_choice ?? 'auto',
    tools: Array.isArray(request.tools) ? request.tools : [],
    top_logprobs: request.top_logprobs ?? 0,
    top_p: request.top_p ?? 1,
    truncation: request.truncation ?? 'disabled',
    usage: null,
    user: request.user ?? null,
    metadata: request.metadata ?? {},
  };
}

export function responseUsage(usage: Usage | null): Json | null {
  if (!usage) return null;
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cachedTokens },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens },
    total_tokens: usage.totalTokens,
  };
}

/** `incomplete_details` for a chat finish reason, or null when the response is complete. */
export function incompleteReason(finishReason: unknown): string | null {
  if (finishReason === 'length') return 'max_output_tokens';
  if (finishReason === 'content_filter') return 'content_filter';
  return null;
}

export function outputTextPart(text: string): Json {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

/** Builds the Response object for a finished chat completion. */
export function chatCompletionToResponse(completion: Json, shell: ResponseShell, usage: Usage | null): Json {
  const choices = Array.isArray(completion.choices) ? (completion.choices as Json[]) : [];
  const choice = choices[0] ?? {};
  const message = (choice.message ?? {}) as Json;
  const output: Json[] = [];
  const reasoning = message.reasoning_content ?? message.reasoning;
  const thinkingBlocks = Array.isArray(message.thinking_blocks) ? (message.thinking_blocks as Json[]) : [];
  if ((typeof reasoning === 'string' && reasoning !== '') || thinkingBlocks.length > 0) {
    const item: Json = {
      id: createItemId('rs'),
      type: 'reasoning',
      summary: [],
      content: [{ type: 'reasoning_text', text: typeof reasoning === 'string' ? reasoning : '' }],
    };
    if (thinkingBlocks.length > 0) item.encrypted_content = encodeThinkingBlocks(thinkingBlocks);
    output.push(item);
  }
  const parts: Json[] = [];
  if (typeof message.content === 'string' && message.content !== '') parts.push(outputTextPart(message.content));
  if (typeof message.refusal === 'string' && message.refusal !== '') parts.push({ type: 'refusal', refusal: message.refusal });
  if (parts.length > 0) {
    output.push({ id: createItemId('msg'), type: 'message', status: 'completed', role: 'assistant', content: parts });
  }
  const toolCalls = Array.isArray(message.tool_calls) ? (message.tool_calls as Json[]) : [];
  const customNames = customToolNames(shell.request.tools);
  for (const call of toolCalls) {
    const fn = (call.function ?? {}) as Json;
    if (customNames.has(String(fn.name))) {
      output.push({
        id: createItemId('ctc'),
        type: 'custom_tool_call',
        call_id: encodeToolCallId(typeof call.id === 'string' ? call.id : createItemId('ctc'), call.extra_content),
        name: String(fn.name),
        input: customToolInput(typeof fn.arguments === 'string' ? fn.arguments : ''),
      });
      continue;
    }
    output.push({
      id: createItemId('fc'),
      type: 'function_call',
      status: 'completed',
      arguments: typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments ?? {}),
      call_id: encodeToolCallId(typeof call.id === 'string' ? call.id : createItemId('fc'), call.extra_content),
      name: String(fn.name ?? ''),
    });
  }
  const reason = incompleteReason(choice.finish_reason);
  const response = responseEnvelope(shell, reason ? 'incomplete' : 'completed');
  if (reason) response.incomplete_details = { reason };
  response.output = output;
  response.usage = responseUsage(usage);
  return response;
}
