/**
 * OpenAI Responses request -> OpenAI chat completions request, for providers without a native
 * Responses API. Follows https://platform.openai.com/docs/api-reference/responses/create (request
 * body) and https://platform.openai.com/docs/api-reference/chat/create (the target).
 * Pure functions: no I/O; the route loads `previous_response_id` history and passes it in.
 */
import { invalidRequest } from '../core/errors.ts';
import { passChatParams } from '../providers/chat-params.ts';
import type { Json } from '../providers/types.ts';
import { createItemId } from './ids.ts';
import { decodeThinkingBlocks, decodeToolCallId } from './tool-call-ids.ts';

/** Fields the Responses route interprets itself; everything else passes through to chat. */
const handledFields = new Set([
  'model',
  'input',
  'instructions',
  'tools',
  'tool_choice',
  'text',
  'reasoning',
  'max_output_tokens',
  'temperature',
  'top_p',
  'metadata',
  'previous_response_id',
  'store',
  'stream',
  'stream_options',
  'include',
  'truncation',
  'background',
  'parallel_tool_calls',
  'user',
  'top_logprobs',
  'service_tier',
  'prompt_cache_key',
  'safety_identifier',
  'max_tool_calls',
  'conversation',
  'prompt',
]);

/** Fields that are about the Responses API itself and are not sent upstream (and not reported as dropped). */
const gatewayFields = new Set(['store', 'include', 'truncation', 'metadata', 'previous_response_id']);

function asObject(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

/**
 * Normalizes the request's `input` into a list of items, each with an `id` (the shape
 * GET /v1/responses/{id}/input_items returns). A string becomes one user message.
 */
export function normalizeInputItems(input: unknown): Json[] {
  if (input === undefined || input === null) return [];
  if (typeof input === 'string') {
    return [
      { id: createItemId('msg'), type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: input }] },
    ];
  }
  if (!Array.isArray(input)) throw invalidRequest("'input' must be a string or an array of input items", 'input', 'invalid_type');
  return input.map((raw, index) => {
    const item = asObject(raw);
    if (!item) throw invalidRequest(`input[${index}] must be an object`, `input[${index}]`, 'invalid_type');
    const type = item.type ?? (typeof item.role === 'string' ? 'message' : undefined);
    if (type === 'message') {
      const role = item.role;
      if (role !== 'user' && role !== 'assistant' && role !== 'system' && role !== 'developer') {
        throw invalidRequest(
          `input[${index}].role must be one of user, assistant, system, developer`,
          `input[${index}].role`,
          'invalid_value',
        );
      }
      const content =
        typeof item.content === 'string'
          ? [{ type: role === 'assistant' ? 'output_text' : 'input_text', text: item.content }]
          : Array.isArray(item.content)
            ? item.content
            : null;
      if (!content) throw invalidRequest(`input[${index}].content must be a string or an array`, `input[${index}].content`, 'invalid_type');
      return {
        ...item,
        id: typeof item.id === 'string' ? item.id : createItemId('msg'),
        type: 'message',
        role,
        status: item.status ?? 'completed',
        content,
      };
    }
    if (type === 'function_call') {
      if (typeof item.call_id !== 'string' || typeof item.name !== 'string') {
        throw invalidRequest(`input[${index}] (function_call) needs 'call_id' and 'name'`, `input[${index}]`, 'invalid_value');
      }
      return {
        ...item,
        id: typeof item.id === 'string' ? item.id : createItemId('fc'),
        arguments: typeof item.arguments === 'string' ? item.arguments : JSON.stringify(item.arguments ?? {}),
        status: item.status ?? 'completed',
      };
    }
    if (type === 'function_call_output') {
      if (typeof item.call_id !== 'string') {
        throw invalidRequest(`input[${index}] (function_call_output) needs 'call_id'`, `input[${index}].call_id`, 'invalid_value');
      }
      return { ...item, id: typeof item.id === 'string' ? item.id : createItemId('fc'), status: item.status ?? 'completed' };
    }
    if (type === 'custom_tool_call') {
      if (typeof item.call_id !== 'string' || typeof item.name !== 'string') {
        throw invalidRequest(`input[${index}] (custom_tool_call) needs 'call_id' and 'name'`, `input[${index}]`, 'invalid_value');
      }
      return {
        ...item,
        id: typeof item.id === 'string' ? item.id : createItemId('ctc'),
        input: typeof item.input === 'string' ? item.input : '',
      };
    }
    if (type === 'custom_tool_call_output') {
      if (typeof item.call_id !== 'string') {
        throw invalidRequest(`input[${index}] (custom_tool_call_output) needs 'call_id'`, `input[${index}].call_id`, 'invalid_value');
      }
      return { ...item, id: typeof item.id === 'string' ? item.id : createItemId('ctc') };
    }
    if (type === 'reasoning') return { ...item, id: typeof item.id === 'string' ? item.id : createItemId('rs') };
    throw invalidRequest(
      `input[${index}]: item type '${String(type)}' is not supported by this gateway`,
      `input[${index}].type`,
      'invalid_value',
    );
  });
}

function partToChat(part: unknown, path: string, droppedParams: string[]): Json | null {
  const object = asObject(part);
  if (!object) throw invalidRequest(`${path} must be an object`, path, 'invalid_type');
  switch (object.type) {
    case 'input_text':
    case 'output_text':
    case 'text':
      return { type: 'text', text: String(object.text ?? '') };
    case 'refusal':
      return { type: 'text', text: String(object.refusal ?? '') };
    case 'input_image': {
      const url = typeof object.image_url === 'string' ? object.image_url : undefined;
      if (!url) {
        droppedParams.push(`${path.replace(/\[\d+\]/g, '')}.file_id`);
        return null;
      }
      const imageUrl: Json = { url };
      if (typeof object.detail === 'string') imageUrl.detail = object.detail;
      return { type: 'image_url', image_url: imageUrl };
    }
    case 'input_file': {
      if (typeof object.file_data !== 'string' && typeof object.file_id !== 'string') {
        droppedParams.push('input.input_file');
        return null;
      }
      const file: Json = {};
      if (typeof object.file_data === 'string') file.file_data = object.file_data;
      if (typeof object.file_id === 'string') file.file_id = object.file_id;
      if (typeof object.filename === 'string') file.filename = object.filename;
      return { type: 'file', file };
    }
    default:
      throw invalidRequest(`${path}: content type '${String(object.type)}' is not supported`, `${path}.type`, 'invalid_value');
  }
}

function textOnly(parts: Json[]): string | null {
  if (parts.every((part) => part.type === 'text')) return parts.map((part) => String(part.text)).join('');
  return null;
}

/** Turns normalized Responses items (input and earlier output) into chat messages. */
export function itemsToChatMessages(items: Json[], droppedParams: string[]): Json[] {
  const messages: Json[] = [];
  let pendingThinking: Json[] | null = null;
  const attachThinking = () => {
    const last = messages.at(-1);
    if (pendingThinking && last?.role === 'assistant') {
      last.thinking_blocks = [...((last.thinking_blocks as Json[] | undefined) ?? []), ...pendingThinking];
      pendingThinking = null;
    }
  };
  items.forEach((item, index) => {
    const path = `input[${index}]`;
    if (item.type === 'message') {
      const content = Array.isArray(item.content) ? item.content : [];
      const parts = content
        .map((part, partIndex) => partToChat(part, `${path}.content[${partIndex}]`, droppedParams))
        .filter((part): part is Json => part !== null);
      const role = item.role === 'developer' ? 'system' : String(item.role);
      if (role === 'assistant' || role === 'system') {
        messages.push({ role, content: parts.map((part) => (part.type === 'text' ? String(part.text) : '')).join('') });
        if (role === 'assistant') attachThinking();
      } else {
        messages.push({ role, content: textOnly(parts) ?? parts });
      }
      return;
    }
    if (item.type === 'function_call' || item.type === 'custom_tool_call') {
      const decoded = decodeToolCallId(String(item.call_id));
      // A custom (freeform) tool is offered to chat providers as a function taking one string, `input`.
      const callArguments =
        item.type === 'custom_tool_call' ? JSON.stringify({ input: String(item.input ?? '') }) : String(item.arguments ?? '{}');
      const call: Json = { id: decoded.id, type: 'function', function: { name: String(item.name), arguments: callArguments } };
      if (decoded.extraContent) call.extra_content = decoded.extraContent;
      const last = messages.at(-1);
      if (last && last.role === 'assistant') {
        last.tool_calls = [...((last.tool_calls as Json[] | undefined) ?? []), call];
        if (last.content === '') last.content = null;
      } else {
        messages.push({ role: 'assistant', content: null, tool_calls: [call] });
      }
      attachThinking();
      return;
    }
    if (item.type === 'function_call_output' || item.type === 'custom_tool_call_output') {
      const output = item.output;
      let content: string;
      if (typeof output === 'string') content = output;
      else if (Array.isArray(output)) {
        content = output
          .map((part) => (asObject(part) && typeof (part as Json).text === 'string' ? String((part as Json).text) : ''))
          .join('');
      } else content = JSON.stringify(output ?? '');
      messages.push({ role: 'tool', tool_call_id: decodeToolCallId(String(item.call_id)).id, content });
    }
    // Reasoning items carry a model's own earlier reasoning; chat has no input slot for it, except
    // signed thinking made through the Anthropic provider, which goes back with the next assistant turn.
    if (item.type === 'reasoning') {
      const blocks = decodeThinkingBlocks(item.encrypted_content);
      if (blocks) pendingThinking = [...(pendingThinking ?? []), ...blocks];
    }
  });
  return messages;
}

/** A custom (freeform) tool as a chat function with a single string parameter `input`. */
function customToolFunction(tool: Json): Json {
  const format = asObject(tool.format);
  let description = typeof tool.description === 'string' ? tool.description : '';
  if (format?.type === 'grammar' && typeof format.definition === 'string') {
    description += `${description ? '\n\n' : ''}The input must follow this ${String(format.syntax ?? '')} grammar:\n${format.definition}`;
  }
  const fn: Json = {
    name: tool.name,
    parameters: {
      type: 'object',
      properties: { input: { type: 'string', description: 'The raw input for this tool' } },
      required: ['input'],
      additionalProperties: false,
    },
  };
  if (description) fn.description = description;
  return fn;
}

/** Names of the custom (freeform) tools of a Responses request. */
export function customToolNames(tools: unknown): Set<string> {
  const names = new Set<string>();
  if (!Array.isArray(tools)) return names;
  for (const tool of tools) {
    const object = asObject(tool);
    if (object?.type === 'custom' && typeof object.name === 'string') names.add(object.name);
  }
  return names;
}

/** The `input` string of a custom tool call from the chat function arguments. */
export function customToolInput(argumentsText: string): string {
  try {
    const parsed = JSON.parse(argumentsText) as unknown;
    const input = asObject(parsed)?.input;
    if (typeof input === 'string') return input;
  } catch {
    // not JSON: the model wrote the input directly
  }
  return argumentsText;
}

function translateTools(tools: unknown, droppedParams: string[]): Json[] | undefined {
  if (tools === undefined) return undefined;
  if (!Array.isArray(tools)) throw invalidRequest("'tools' must be an array", 'tools', 'invalid_type');
  const translated: Json[] = [];
  tools.forEach((raw, index) => {
    const tool = asObject(raw);
    if (!tool) throw invalidRequest(`tools[${index}] must be an object`, `tools[${index}]`, 'invalid_type');
    if (tool.type === 'custom' && typeof tool.name === 'string' && tool.name !== '') {
      translated.push({ type: 'function', function: customToolFunction(tool) });
      return;
    }
    if (tool.type !== 'function') {
      droppedParams.push(`tools.${String(tool.type)}`);
      return;
    }
    if (typeof tool.name !== 'string' || tool.name === '') {
      throw invalidRequest(`tools[${index}].name is required`, `tools[${index}].name`, 'missing_required_parameter');
    }
    const fn: Json = { name: tool.name };
    if (typeof tool.description === 'string') fn.description = tool.description;
    if (tool.parameters !== undefined && tool.parameters !== null) fn.parameters = tool.parameters;
    if (typeof tool.strict === 'boolean') fn.strict = tool.strict;
    translated.push({ type: 'function', function: fn });
  });
  return translated;
}

function translateToolChoice(choice: unknown, droppedParams: string[]): unknown {
  if (choice === undefined) return undefined;
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  const object = asObject(choice);
  if ((object?.type === 'function' || object?.type === 'custom') && typeof object.name === 'string') {
    return { type: 'function', function: { name: object.name } };
  }
  droppedParams.push('tool_choice');
  return undefined;
}

function translateTextFormat(text: unknown, chat: Json, droppedParams: string[]): void {
  const object = asObject(text);
  if (!object) return;
  const format = asObject(object.format);
  if (format) {
    if (format.type === 'json_schema') {
      const schema: Json = { name: typeof format.name === 'string' ? format.name : 'response', schema: format.schema ?? {} };
      if (typeof format.strict === 'boolean') schema.strict = format.strict;
      if (typeof format.description === 'string') schema.description = format.description;
      chat.response_format = { type: 'json_schema', json_schema: schema };
    } else if (format.type === 'json_object') {
      chat.response_format = { type: 'json_object' };
    } else if (format.type !== 'text') {
      droppedParams.push('text.format');
    }
  }
  if (typeof object.verbosity === 'string') chat.verbosity = object.verbosity;
}

/**
 * Builds the chat request. `history` is the conversation before this request (from
 * `previous_response_id`), as Responses items; `inputItems` is this request's normalized input.
 */
export function responsesToChatRequest(body: Json, inputItems: Json[], history: Json[], droppedParams: string[]): Json {
  const chat: Json = {};
  // Other fields of the Responses API (Codex's client_metadata, for one) are no chat fields: reported dropped.
  passChatParams(body, handledFields, chat, droppedParams);
  chat.model = body.model;
  const messages: Json[] = [];
  if (body.instructions !== undefined && body.instructions !== null) {
    if (typeof body.instructions !== 'string') throw invalidRequest("'instructions' must be a string", 'instructions', 'invalid_type');
    messages.push({ role: 'system', content: body.instructions });
  }
  messages.push(...itemsToChatMessages([...history, ...inputItems], droppedParams));
  if (messages.length === 0) throw invalidRequest("Missing required parameter: 'input'", 'input', 'missing_required_parameter');
  chat.messages = messages;
  const tools = translateTools(body.tools, droppedParams);
  if (tools && tools.length > 0) chat.tools = tools;
  const toolChoice = tools && tools.length > 0 ? translateToolChoice(body.tool_choice, droppedParams) : undefined;
  if (toolChoice !== undefined) chat.tool_choice = toolChoice;
  translateTextFormat(body.text, chat, droppedParams);
  const reasoning = asObject(body.reasoning);
  if (reasoning && typeof reasoning.effort === 'string') chat.reasoning_effort = reasoning.effort;
  if (reasoning && reasoning.summary !== undefined && reasoning.summary !== null) droppedParams.push('reasoning.summary');
  if (body.max_output_tokens !== undefined && body.max_output_tokens !== null) chat.max_tokens = body.max_output_tokens;
  for (const key of [
    'temperature',
    'top_p',
    'parallel_tool_calls',
    'user',
    'service_tier',
    'prompt_cache_key',
    'safety_identifier',
  ] as const) {
    if (body[key] !== undefined && body[key] !== null) chat[key] = body[key];
  }
  if (typeof body.top_logprobs === 'number' && body.top_logprobs > 0) {
    chat.logprobs = true;
    chat.top_logprobs = body.top_logprobs;
  }
  for (const key of ['background', 'conversation', 'prompt', 'max_tool_calls'] as const) {
    if (body[key] !== undefined && body[key] !== null && body[key] !== false) droppedParams.push(key);
  }
  if (body.stream === true) chat.stream = true;
  for (const key of gatewayFields) delete chat[key];
  return chat;
}
