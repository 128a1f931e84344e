/**
 * Anthropic Messages request -> OpenAI chat completions request, so that Anthropic clients can use
 * any provider. Request format: https://docs.anthropic.com/en/api/messages (system as a string or
 * text blocks; messages with text, image (base64/url), document, tool_use, tool_result, thinking
 * blocks; tools with input_schema; tool_choice auto/any/tool/none; thinking {type, budget_tokens}).
 * Pure functions.
 */
import { invalidRequest } from '../core/errors.ts';
import { passChatParams } from '../providers/chat-params.ts';
import type { Json } from '../providers/types.ts';
import { decodeToolCallId } from '../responses/tool-call-ids.ts';

export interface MessagesTranslationOptions {
  /**
   * The target is the native Anthropic provider, which accepts Anthropic-only fields on chat requests
   * (`thinking`, `top_k`, `cache_control`, `thinking_blocks`, container, mcp_servers,
   * context_management): pass them instead of approximating or dropping them.
   */
  anthropicNative: boolean;
}

/** Fields this translation handles; anything else passes through to the chat request. */
const handledFields = new Set([
  'model',
  'messages',
  'system',
  'max_tokens',
  'stop_sequences',
  'temperature',
  'top_p',
  'top_k',
  'metadata',
  'tools',
  'tool_choice',
  'thinking',
  'stream',
  'service_tier',
  'container',
  'mcp_servers',
  'context_management',
  'output_config',
]);

function asObject(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

function blocksOf(content: unknown, path: string): Json[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content))
    throw invalidRequest(`${path}: content must be a string or an array of content blocks`, path, 'invalid_type');
  return content.map((block, index) => {
    const object = asObject(block);
    if (!object || typeof object.type !== 'string')
      throw invalidRequest(`${path}.${index}: content block must be an object with a type`, `${path}.${index}`, 'invalid_value');
    return object;
  });
}

function imagePart(block: Json, path: string): Json {
  const source = asObject(block.source);
  if (source?.type === 'base64' && typeof source.data === 'string' && typeof source.media_type === 'string') {
    return { type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } };
  }
  if (source?.type === 'url' && typeof source.url === 'string') return { type: 'image_url', image_url: { url: source.url } };
  throw invalidRequest(`${path}.source: image source must be base64 (media_type, data) or url`, `${path}.source`, 'invalid_value');
}

function documentPart(block: Json, path: string, droppedParams: string[]): Json | null {
  const source = asObject(block.source);
  if (source?.type === 'base64' && typeof source.data === 'string') {
    const file: Json = { file_data: `data:${String(source.media_type ?? 'application/pdf')};base64,${source.data}` };
    if (typeof block.title === 'string') file.filename = block.title;
    return { type: 'file', file };
  }
  if (source?.type === 'text' && typeof source.data === 'string') return { type: 'text', text: source.data };
  droppedParams.push(`${path.replace(/\.\d+/g, '')}.document`);
  return null;
}

/**
 * The text of a tool result. Chat `tool` messages carry text only: images in a result are returned
 * separately so they can follow in the user message after the tool messages.
 */
function toolResultContent(content: unknown, path: string, droppedParams: string[]): { text: string; images: Json[] } {
  if (content === undefined || content === null) return { text: '', images: [] };
  if (typeof content === 'string') return { text: content, images: [] };
  if (!Array.isArray(content)) return { text: JSON.stringify(content), images: [] };
  const texts: string[] = [];
  const images: Json[] = [];
  content.forEach((block, index) => {
    const object = asObject(block);
    if (object?.type === 'text' && typeof object.text === 'string') texts.push(object.text);
    else if (object?.type === 'image') images.push(imagePart(object, `${path}.content.${index}`));
    else droppedParams.push('messages.content.tool_result.content');
  });
  return { text: texts.join('\n'), images };
}

function systemContent(system: unknown, options: MessagesTranslationOptions, path = 'system'): string | Json[] | null {
  if (system === undefined || system === null) return null;
  if (typeof system === 'string') return system;
  if (!Array.isArray(system)) throw invalidRequest(`${path}: must be a string or an array of text blocks`, path, 'invalid_type');
  const blocks = system.map((block, index) => {
    const object = asObject(block);
    if (object?.type !== 'text' || typeof object.text !== 'string')
      throw invalidRequest(`${path}.${index}: must be a text block`, `${path}.${index}`, 'invalid_value');
    return object;
  });
  if (options.anthropicNative && blocks.some((block) => block.cache_control !== undefined)) {
    return blocks.map((block) => withCacheControl({ type: 'text', text: block.text }, block, options));
  }
  return blocks.map((block) => String(block.text)).join('\n');
}

function withCacheControl(part: Json, source: Json, options: MessagesTranslationOptions): Json {
  if (options.anthropicNative && source.cache_control !== undefined) part.cache_control = source.cache_control;
  return part;
}

/** Maps Anthropic's `thinking.budget_tokens` to OpenAI's `reasoning_effort`. */
export function effortForBudget(budget: number): 'low' | 'medium' | 'high' {
  if (budget < 4096) return 'low';
  if (budget < 16384) return 'medium';
  return 'high';
}

/** Anthropic's output_config.effort (low, medium, high, max) -> OpenAI's reasoning_effort. */
const efforts: Record<string, string> = { low: 'low', medium: 'medium', high: 'high', max: 'high' };

/**
 * `thinking` (enabled with a budget, or adaptive with output_config.effort) -> `reasoning_effort`; the
 * target's fit (fit-chat-request.ts) drops it, reported as `thinking`, where the model cannot reason.
 * The rest of output_config (format, for one) has no chat equivalent here: reported dropped.
 */
function mapThinking(thinking: Json | undefined, outputConfig: Json | undefined, chat: Json, droppedParams: string[]): void {
  const effort = typeof outputConfig?.effort === 'string' ? efforts[outputConfig.effort] : undefined;
  if (thinking?.type === 'enabled') {
    chat.reasoning_effort = effortForBudget(typeof thinking.budget_tokens === 'number' ? thinking.budget_tokens : 0);
  } else if (thinking?.type === 'adaptive' || (thinking === undefined && effort !== undefined)) {
    chat.reasoning_effort = effort ?? 'medium';
  } else if (thinking !== undefined && thinking.type !== 'disabled') {
    droppedParams.push('thinking');
  }
  if (outputConfig && Object.keys(outputConfig).some((key) => key !== 'effort' || effort === undefined)) droppedParams.push('output_config');
}

function translateMessages(messages: unknown, droppedParams: string[], options: MessagesTranslationOptions): Json[] {
  if (!Array.isArray(messages) || messages.length === 0)
    throw invalidRequest('messages: must be a non-empty array', 'messages', 'invalid_value');
  const chat: Json[] = [];
  messages.forEach((raw, index) => {
    const path = `messages.${index}`;
    const message = asObject(raw);
    if (!message || (message.role !== 'user' && message.role !== 'assistant' && message.role !== 'system')) {
      throw invalidRequest(`${path}.role: must be 'user', 'assistant' or 'system'`, `${path}.role`, 'invalid_value');
    }
    if (message.role === 'system') {
      // Claude Code sends system messages inside `messages` (the SDK's types allow them): they stay
      // system messages at their place; the Anthropic provider folds them into `system`.
      const system = systemContent(message.content, options, `${path}.content`);
      if (system !== null && system !== '') chat.push({ role: 'system', content: system });
      return;
    }
    const blocks = blocksOf(message.content, `${path}.content`);
    if (message.role === 'assistant') {
      let text = '';
      const toolCalls: Json[] = [];
      const thinkingBlocks: Json[] = [];
      blocks.forEach((block, blockIndex) => {
        if (block.type === 'text') text += String(block.text ?? '');
        else if (block.type === 'tool_use') {
          if (typeof block.id !== 'string' || typeof block.name !== 'string') {
            throw invalidRequest(
              `${path}.content.${blockIndex}: tool_use needs id and name`,
              `${path}.content.${blockIndex}`,
              'invalid_value',
            );
          }
          const decoded = decodeToolCallId(block.id);
          const call: Json = {
            id: decoded.id,
            type: 'function',
            function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
          };
          if (decoded.extraContent) call.extra_content = decoded.extraContent;
          toolCalls.push(call);
        } else if (block.type === 'thinking' || block.type === 'redacted_thinking') {
          // Signed thinking goes back to Anthropic as is; other providers have no slot for it.
          const signed = block.type === 'redacted_thinking' || (typeof block.signature === 'string' && block.signature !== '');
          if (options.anthropicNative && signed) thinkingBlocks.push(block);
        } else {
          // Earlier thinking is the model's own; chat requests have no slot for it.
          droppedParams.push(`messages.content.${String(block.type)}`);
        }
      });
      const chatMessage: Json = { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text };
      if (toolCalls.length > 0) chatMessage.tool_calls = toolCalls;
      if (thinkingBlocks.length > 0) chatMessage.thinking_blocks = thinkingBlocks;
      chat.push(chatMessage);
      return;
    }
    // user: tool results become `tool` messages (they must directly follow the assistant's calls),
    // the rest one user message after them.
    const parts: Json[] = [];
    blocks.forEach((block, blockIndex) => {
      const blockPath = `${path}.content.${blockIndex}`;
      switch (block.type) {
        case 'text':
          parts.push(withCacheControl({ type: 'text', text: String(block.text ?? '') }, block, options));
          break;
        case 'image':
          parts.push(imagePart(block, blockPath));
          break;
        case 'document': {
          const part = documentPart(block, blockPath, droppedParams);
          if (part) parts.push(part);
          break;
        }
        case 'tool_result': {
          if (typeof block.tool_use_id !== 'string')
            throw invalidRequest(`${blockPath}: tool_result needs tool_use_id`, `${blockPath}.tool_use_id`, 'invalid_value');
          const { text, images } = toolResultContent(block.content, blockPath, droppedParams);
          parts.push(...images);
          chat.push({
            role: 'tool',
            tool_call_id: decodeToolCallId(block.tool_use_id).id,
            content: block.is_error === true ? `Error: ${text}` : text,
          });
          break;
        }
        default:
          droppedParams.push(`messages.content.${String(block.type)}`);
      }
    });
    if (parts.length > 0) {
      const onlyText = parts.every((part) => part.type === 'text' && part.cache_control === undefined);
      chat.push({ role: 'user', content: onlyText ? parts.map((part) => String(part.text)).join('\n') : parts });
    }
  });
  return chat;
}

/** Fields of an Anthropic custom tool that a chat function tool carries (strict as function.strict). */
const chatToolFields = new Set(['type', 'name', 'description', 'input_schema', 'strict']);

function translateTools(tools: unknown, droppedParams: string[], options: MessagesTranslationOptions): Json[] | undefined {
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw invalidRequest('tools: must be an array', 'tools', 'invalid_type');
  const translated: Json[] = [];
  tools.forEach((raw, index) => {
    const tool = asObject(raw);
    if (!tool || typeof tool.name !== 'string')
      throw invalidRequest(`tools.${index}.name: Field required`, `tools.${index}.name`, 'invalid_value');
    if (tool.type !== undefined && tool.type !== 'custom' && !options.anthropicNative) {
      // Anthropic server tools (web_search_…, bash_…, text_editor_…) have no chat equivalent.
      droppedParams.push(`tools.${String(tool.type)}`);
      return;
    }
    if (options.anthropicNative) {
      // The Anthropic provider passes tools in Anthropic's shape on as they are: server tools, and custom
      // tools with every field (strict, defer_loading, input_examples, cache_control...).
      translated.push({ ...tool });
      return;
    }
    const fn: Json = { name: tool.name, parameters: tool.input_schema ?? { type: 'object', properties: {} } };
    if (typeof tool.description === 'string') fn.description = tool.description;
    for (const key in tool) {
      if (key === 'strict' && typeof tool.strict === 'boolean') fn.strict = tool.strict;
      else if (!chatToolFields.has(key)) droppedParams.push(`tools.${key}`);
    }
    translated.push({ type: 'function', function: fn });
  });
  return translated;
}

/** Builds the chat request; parameters that cannot be expressed are added to `droppedParams`. */
export function messagesToChatRequest(
  body: Json,
  droppedParams: string[],
  options: MessagesTranslationOptions = { anthropicNative: false },
): Json {
  const chat: Json = {};
  if (options.anthropicNative) {
    // The Anthropic provider takes Anthropic's own fields (and reports those it does not know).
    for (const key in body) if (!handledFields.has(key)) chat[key] = body[key];
  } else {
    passChatParams(body, handledFields, chat, droppedParams);
  }
  chat.model = body.model;
  if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens) || body.max_tokens < 1) {
    throw invalidRequest('max_tokens: Field required (a positive integer)', 'max_tokens', 'invalid_value');
  }
  const messages: Json[] = [];
  const system = systemContent(body.system, options);
  if (system !== null && system !== '') messages.push({ role: 'system', content: system });
  messages.push(...translateMessages(body.messages, droppedParams, options));
  chat.messages = messages;
  chat.max_tokens = body.max_tokens;
  if (body.stop_sequences !== undefined) {
    if (!Array.isArray(body.stop_sequences))
      throw invalidRequest('stop_sequences: must be an array of strings', 'stop_sequences', 'invalid_type');
    if (body.stop_sequences.length > 0) chat.stop = body.stop_sequences;
  }
  if (body.temperature !== undefined) chat.temperature = body.temperature;
  if (body.top_p !== undefined) chat.top_p = body.top_p;
  if (body.top_k !== undefined) {
    if (options.anthropicNative) chat.top_k = body.top_k;
    else droppedParams.push('top_k');
  }
  const metadata = asObject(body.metadata);
  if (metadata && typeof metadata.user_id === 'string') chat.user = metadata.user_id;
  const tools = translateTools(body.tools, droppedParams, options);
  if (tools && tools.length > 0) chat.tools = tools;
  const choice = asObject(body.tool_choice);
  if (choice) {
    if (choice.type === 'none') chat.tool_choice = 'none';
    if (tools && tools.length > 0) {
      if (choice.type === 'auto') chat.tool_choice = 'auto';
      else if (choice.type === 'any') chat.tool_choice = 'required';
      else if (choice.type === 'tool' && typeof choice.name === 'string')
        chat.tool_choice = { type: 'function', function: { name: choice.name } };
      if (choice.disable_parallel_tool_use === true) chat.parallel_tool_calls = false;
    }
  }
  const thinking = asObject(body.thinking);
  if (options.anthropicNative) {
    if (thinking) chat.thinking = thinking;
    if (body.output_config !== undefined) chat.output_config = body.output_config;
  } else {
    mapThinking(thinking, asObject(body.output_config), chat, droppedParams);
  }
  for (const key of ['container', 'mcp_servers', 'context_management', 'service_tier'] as const) {
    if (body[key] === undefined) continue;
    if (options.anthropicNative) chat[key] = body[key];
    else droppedParams.push(key);
  }
  if (body.stream === true) chat.stream = true;
  return chat;
}
