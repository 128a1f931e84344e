/**
 * OpenAI chat request -> Anthropic Messages request (https://docs.anthropic.com/en/api/messages).
 * Pure: no I/O. Parameters without an Anthropic equivalent are listed in `droppedParams`, never lost silently.
 * The mapping table lives in docs/providers-anthropic.md.
 */
import { invalidRequest } from '../../core/errors.ts';
import type { Json } from '../types.ts';

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

/** Name of the tool used for response_format json_schema (see docs/providers-anthropic.md). */
export const jsonResponseToolName = 'json_response';

const jsonObjectInstruction = 'Respond with a single valid JSON object and nothing else: no prose, no code fences.';

/** Anthropic-native fields accepted as they are on the OpenAI-shaped request. */
const nativePassThrough = ['top_k', 'container', 'mcp_servers', 'context_management', 'output_config'];

/** Values of unmappable OpenAI fields that ask for nothing (the defaults): not worth a dropped-param report. */
const neutralValues: Record<string, unknown> = {
  frequency_penalty: 0,
  presence_penalty: 0,
  logprobs: false,
  store: false,
  top_logprobs: 0,
};

/** Fields this module consumes. */
const handled = new Set([
  'model',
  'messages',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'stop',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'functions',
  'function_call',
  'user',
  'safety_identifier',
  'metadata',
  'response_format',
  'reasoning_effort',
  'thinking',
  'n',
  'service_tier',
  ...nativePassThrough,
]);

export interface AnthropicRequestTranslation {
  body: Json;
  droppedParams: string[];
  /** Set when response_format json_schema is served through a forced tool: its tool_use becomes the content. */
  jsonToolName: string | null;
  /** Whether the client asked for stream usage (stream_options.include_usage). */
  includeUsage: boolean;
  /** The reasoning_effort behind `thinking`, when the gateway chose the thinking form (the provider may switch style). */
  reasoningEffort: string | null;
  /** max_tokens / max_completion_tokens as the client set it. */
  clientMaxTokens: number | undefined;
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function withCacheControl(block: Json, source: Json): Json {
  if (source.cache_control !== undefined) block.cache_control = source.cache_control;
  return block;
}

/** data:<media type>;base64,<data> */
function parseDataUrl(url: string): { mediaType: string; data: string } | null {
  const match = /^data:([^;,]+)(?:;[^,]*)?;base64,(.*)$/s.exec(url);
  if (!match) return null;
  return { mediaType: match[1] ?? '', data: match[2] ?? '' };
}

function imageBlock(part: Json, where: string, dropped: string[]): Json {
  const imageUrl = part.image_url;
  const url = typeof imageUrl === 'string' ? imageUrl : isObject(imageUrl) ? imageUrl.url : undefined;
  if (typeof url !== 'string' || url === '') throw invalidRequest(`${where}.image_url.url is required`, `${where}.image_url`);
  if (isObject(imageUrl) && imageUrl.detail !== undefined && imageUrl.detail !== 'auto') dropped.push('image_url.detail');
  if (url.startsWith('data:')) {
    const parsed = parseDataUrl(url);
    if (!parsed) throw invalidRequest(`${where}.image_url.url is not a base64 data URL`, `${where}.image_url`);
    return withCacheControl({ type: 'image', source: { type: 'base64', media_type: parsed.mediaType, data: parsed.data } }, part);
  }
  if (/^https?:\/\//i.test(url)) return withCacheControl({ type: 'image', source: { type: 'url', url } }, part);
  throw invalidRequest(`${where}.image_url.url must be an http(s) URL or a data URL`, `${where}.image_url`);
}

function fileBlock(part: Json, where: string, dropped: string[]): Json | null {
  const file = isObject(part.file) ? part.file : {};
  const fileData = file.file_data;
  if (typeof fileData === 'string') {
    const parsed = parseDataUrl(fileData);
    if (parsed?.mediaType === 'application/pdf') {
      return withCacheControl({ type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: parsed.data } }, part);
    }
    if (parsed?.mediaType.startsWith('text/')) {
      const text = Buffer.from(parsed.data, 'base64').toString('utf8');
      return withCacheControl({ type: 'document', source: { type: 'text', media_type: 'text/plain', data: text } }, part);
    }
    if (parsed?.mediaType.startsWith('image/')) {
      return withCacheControl({ type: 'image', source: { type: 'base64', media_type: parsed.mediaType, data: parsed.data } }, part);
    }
  }
  dropped.push(`${where.replace(/\[\d+\]/g, '[]')}.file`);
  return null;
}

/** User (or system) content -> Anthropic blocks. */
function contentBlocks(content: unknown, where: string, dropped: string[]): Json[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw invalidRequest(`${where}.content must be a string or an array of parts`, `${where}.content`);
  const blocks: Json[] = [];
  content.forEach((raw, index) => {
    const partWhere = `${where}.content[${index}]`;
    if (!isObject(raw)) throw invalidRequest(`${partWhere} must be an object`, partWhere);
    const part = raw;
    switch (part.type) {
      case 'text':
        if (typeof part.text !== 'string') throw invalidRequest(`${partWhere}.text must be a string`, partWhere);
        if (part.text !== '') blocks.push(withCacheControl({ type: 'text', text: part.text }, part));
        break;
      case 'image_url':
        blocks.push(imageBlock(part, partWhere, dropped));
        break;
      case 'file': {
        const block = fileBlock(part, partWhere, dropped);
        if (block) blocks.push(block);
        break;
      }
      case 'refusal':
        if (typeof part.refusal === 'string') blocks.push({ type: 'text', text: part.refusal });
        break;
      case 'thinking':
      case 'redacted_thinking':
        // Signed thinking given as content parts (as some clients send them) go back unchanged.
        blocks.push(part);
        break;
      default:
        dropped.push(`messages[].content.${String(part.type)}`);
    }
  });
  return blocks;
}

function applyMessageCacheControl(blocks: Json[], message: Json): void {
  const last = blocks.at(-1);
  if (message.cache_control !== undefined && last && last.cache_control === undefined) last.cache_control = message.cache_control;
}

function parseArguments(text: unknown, where: string): Json {
  if (text === undefined || text === null || text === '') return {};
  if (typeof text !== 'string') throw invalidRequest(`${where}.function.arguments must be a JSON string`, `${where}.function.arguments`);
  try {
    const parsed = JSON.parse(text) as unknown;
    if (isObject(parsed)) return parsed;
  } catch {
    // reported below
  }
  throw invalidRequest(`${where}.function.arguments must be a JSON object encoded as a string`, `${where}.function.arguments`);
}

/** thinking_blocks of an assistant message -> Anthropic thinking / redacted_thinking blocks. */
function thinkingBlocks(message: Json, where: string): Json[] {
  if (message.thinking_blocks === undefined || message.thinking_blocks === null) return [];
  if (!Array.isArray(message.thinking_blocks))
    throw invalidRequest(`${where}.thinking_blocks must be an array`, `${where}.thinking_blocks`);
  return message.thinking_blocks.map((raw, index) => {
    const block = isObject(raw) ? raw : {};
    if (block.type === 'redacted_thinking' && typeof block.data === 'string') return { type: 'redacted_thinking', data: block.data };
    if (block.type === 'thinking' && typeof block.thinking === 'string' && typeof block.signature === 'string') {
      return { type: 'thinking', thinking: block.thinking, signature: block.signature };
    }
    throw invalidRequest(
      `${where}.thinking_blocks[${index}] must be {type:'thinking', thinking, signature} or {type:'redacted_thinking', data}`,
      `${where}.thinking_blocks`,
    );
  });
}

function assistantBlocks(message: Json, where: string, dropped: string[]): Json[] {
  const blocks = thinkingBlocks(message, where);
  if (blocks.length === 0 && typeof message.reasoning_content === 'string' && message.reasoning_content !== '') {
    // Without a signature Anthropic cannot take reasoning back.
    dropped.push('messages[].reasoning_content');
  }
  blocks.push(...contentBlocks(message.content, where, dropped));
  if (typeof message.refusal === 'string' && message.refusal !== '' && message.content == null) {
    blocks.push({ type: 'text', text: message.refusal });
  }
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  calls.forEach((raw, index) => {
    const callWhere = `${where}.tool_calls[${index}]`;
    const call = isObject(raw) ? raw : {};
    const fn = isObject(call.function) ? call.function : {};
    if (typeof call.id !== 'string' || typeof fn.name !== 'string') {
      throw invalidRequest(`${callWhere} needs an id and function.name`, callWhere);
    }
    blocks.push(withCacheControl({ type: 'tool_use', id: call.id, name: fn.name, input: parseArguments(fn.arguments, callWhere) }, call));
  });
  if (isObject(message.function_call)) {
    const fn = message.function_call;
    blocks.push({
      type: 'tool_use',
      id: `call_${String(fn.name)}`,
      name: String(fn.name),
      input: parseArguments(fn.arguments, `${where}.function_call`),
    });
  }
  return blocks;
}

function toolResultBlock(message: Json, where: string, dropped: string[]): Json {
  if (typeof message.tool_call_id !== 'string') throw invalidRequest(`${where}.tool_call_id is required`, `${where}.tool_call_id`);
  const content = typeof message.content === 'string' ? message.content : contentBlocks(message.content, where, dropped);
  const block: Json = { type: 'tool_result', tool_use_id: message.tool_call_id, content };
  if (message.is_error === true) block.is_error = true;
  return withCacheControl(block, message);
}

interface Translated {
  system: Json[];
  messages: Json[];
}

function translateMessages(rawMessages: unknown[], dropped: string[]): Translated {
  const system: Json[] = [];
  const messages: Json[] = [];
  const push = (role: 'user' | 'assistant', blocks: Json[]) => {
    if (blocks.length === 0) return;
    const previous = messages.at(-1);
    // Anthropic alternates user/assistant turns; consecutive same-role turns are merged into one.
    if (previous && previous.role === role) (previous.content as Json[]).push(...blocks);
    else messages.push({ role, content: blocks });
  };
  rawMessages.forEach((raw, index) => {
    const where = `messages[${index}]`;
    const message = raw as Json;
    if (message.name !== undefined && message.role !== 'tool' && message.role !== 'function') dropped.push('messages[].name');
    switch (message.role) {
      case 'system':
      case 'developer': {
        const blocks = contentBlocks(message.content, where, dropped).filter((block) => block.type === 'text');
        applyMessageCacheControl(blocks, message);
        system.push(...blocks);
        break;
      }
      case 'user': {
        const blocks = contentBlocks(message.content, where, dropped);
        applyMessageCacheControl(blocks, message);
        push('user', blocks);
        break;
      }
      case 'assistant': {
        const blocks = assistantBlocks(message, where, dropped);
        applyMessageCacheControl(blocks, message);
        push('assistant', blocks);
        break;
      }
      case 'tool':
        push('user', [toolResultBlock(message, where, dropped)]);
        break;
      case 'function':
        push('user', [{ type: 'tool_result', tool_use_id: `call_${String(message.name)}`, content: String(message.content ?? '') }]);
        break;
      default:
        throw invalidRequest(`${where}.role '${String(message.role)}' is not supported`, `${where}.role`);
    }
  });
  // Tool results must open the user turn that follows the tool calls.
  for (const message of messages) {
    if (message.role !== 'user') continue;
    const blocks = message.content as Json[];
    const results = blocks.filter((block) => block.type === 'tool_result');
    if (results.length > 0 && results.length < blocks.length) {
      message.content = [...results, ...blocks.filter((block) => block.type !== 'tool_result')];
    }
  }
  return { system, messages };
}

function translateTools(body: Json, dropped: string[]): Json[] | undefined {
  let tools = body.tools;
  if (tools === undefined && Array.isArray(body.functions)) {
    tools = body.functions.map((fn) => ({ type: 'function', function: fn }));
  }
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw invalidRequest("'tools' must be an array", 'tools');
  const result: Json[] = [];
  tools.forEach((raw, index) => {
    if (!isObject(raw)) throw invalidRequest(`tools[${index}] must be an object`, `tools[${index}]`);
    const tool = raw;
    if (tool.type === 'function') {
      const fn = isObject(tool.function) ? tool.function : {};
      if (typeof fn.name !== 'string') throw invalidRequest(`tools[${index}].function.name is required`, `tools[${index}].function.name`);
      const converted: Json = { name: fn.name };
      if (typeof fn.description === 'string') converted.description = fn.description;
      converted.input_schema = isObject(fn.parameters) ? fn.parameters : { type: 'object', properties: {} };
      if (fn.strict === true) dropped.push('tools[].function.strict');
      result.push(withCacheControl(converted, isObject(tool.cache_control) ? tool : fn));
    } else if (typeof tool.type === 'string' && typeof tool.name === 'string' && tool.type !== 'custom') {
      // Anthropic-native tool (web_search_20250305, bash_20250124...): passed as it is.
      result.push(tool);
    } else {
      dropped.push(`tools[].${String(tool.type)}`);
    }
  });
  return result;
}

function translateToolChoice(body: Json, hasTools: boolean): Json | undefined {
  let choice = body.tool_choice;
  if (choice === undefined && body.function_call !== undefined) {
    const legacy = body.function_call;
    choice = isObject(legacy) ? { type: 'function', function: { name: legacy.name } } : legacy;
  }
  let result: Json | undefined;
  if (choice === 'auto') result = { type: 'auto' };
  else if (choice === 'required') result = { type: 'any' };
  else if (choice === 'none') result = { type: 'none' };
  else if (isObject(choice)) {
    const fn = isObject(choice.function) ? choice.function : {};
    const allowed = isObject(choice.allowed_tools) ? choice.allowed_tools : undefined;
    if (choice.type === 'function' && typeof fn.name === 'string') result = { type: 'tool', name: fn.name };
    else if (choice.type === 'allowed_tools' && allowed) {
      // The tool list is narrowed to the allowed ones by the caller; the mode maps like the plain strings.
      result = { type: allowed.mode === 'required' ? 'any' : 'auto' };
    } else if (choice.type === 'auto' || choice.type === 'any' || choice.type === 'none') result = { ...choice };
    else if (choice.type === 'tool' && typeof choice.name === 'string') result = { ...choice };
    else throw invalidRequest("'tool_choice' is not valid", 'tool_choice');
  } else if (choice !== undefined && choice !== null) {
    throw invalidRequest("'tool_choice' must be 'auto', 'required', 'none' or a named function", 'tool_choice');
  }
  if (!hasTools) return undefined;
  if (body.parallel_tool_calls === false) {
    result ??= { type: 'auto' };
    if (result.type !== 'none') result.disable_parallel_tool_use = true;
  }
  return result;
}

function maxTokensOf(body: Json): number | undefined {
  const value = body.max_completion_tokens ?? body.max_tokens;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    const param = body.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens';
    throw invalidRequest(`'${param}' must be a positive integer`, param);
  }
  return value;
}

function stopSequences(stop: unknown): string[] | undefined {
  if (stop === undefined || stop === null) return undefined;
  const list = typeof stop === 'string' ? [stop] : stop;
  if (!Array.isArray(list) || list.some((item) => typeof item !== 'string')) {
    throw invalidRequest("'stop' must be a string or an array of strings", 'stop');
  }
  return list.length > 0 ? (list as string[]) : undefined;
}

function schemaInstruction(format: Json): string {
  const schema = isObject(format.json_schema) ? format.json_schema.schema : undefined;
  return schema === undefined
    ? jsonObjectInstruction
    : `${jsonObjectInstruction} The JSON must match this JSON Schema: ${JSON.stringify(schema)}`;
}

export function toAnthropicRequest(body: Json): AnthropicRequestTranslation {
  const dropped: string[] = [];
  if (!Array.isArray(body.messages)) throw invalidRequest("'messages' must be an array", 'messages');
  const { system, messages } = translateMessages(body.messages, dropped);
  const out: Json = { model: body.model };

  // Thinking: a native `thinking` object wins; otherwise reasoning_effort picks a budget or an effort.
  const clientMaxTokens = maxTokensOf(body);
  out.max_tokens = clientMaxTokens ?? defaultAnthropicMaxTokens;
  out.messages = messages;
  for (const name of nativePassThrough) if (body[name] !== undefined) out[name] = body[name];
  let reasoningEffort: string | null = null;
  if (isObject(body.thinking)) {
    out.thinking = body.thinking;
  } else if (body.reasoning_effort !== undefined && body.reasoning_effort !== null && body.reasoning_effort !== 'none') {
    const effort = body.reasoning_effort;
    if (typeof effort !== 'string' || thinkingBudgets[effort] === undefined) {
      throw invalidRequest(`'reasoning_effort' must be one of none, ${Object.keys(thinkingBudgets).join(', ')}`, 'reasoning_effort');
    }
    if (applyReasoningEffort(out, effort, thinkingStyleFor(body.model), clientMaxTokens)) reasoningEffort = effort;
    else dropped.push('reasoning_effort');
  }
  const thinking = isObject(out.thinking) ? out.thinking : undefined;
  const thinkingOn = thinking?.type === 'enabled' || thinking?.type === 'adaptive';

  const stop = stopSequences(body.stop);
  if (stop) out.stop_sequences = stop;
  if (body.temperature !== undefined && body.temperature !== null) {
    // With thinking on Anthropic only accepts temperature 1.
    if (thinkingOn && body.temperature !== 1) dropped.push('temperature');
    else out.temperature = body.temperature;
  }
  if (body.top_p !== undefined && body.top_p !== null) out.top_p = body.top_p;

  let tools = translateTools(body, dropped);
  const allowedTools =
    isObject(body.tool_choice) && body.tool_choice.type === 'allowed_tools' && isObject(body.tool_choice.allowed_tools)
      ? body.tool_choice.allowed_tools.tools
      : undefined;
  if (tools && Array.isArray(allowedTools)) {
    // tool_choice {type: allowed_tools, allowed_tools: {mode, tools: [{type: function, function: {name}}]}}
    const names = new Set(
      allowedTools.map((entry) =>
        isObject(entry) && isObject(entry.function) ? entry.function.name : isObject(entry) ? entry.name : undefined,
      ),
    );
    tools = tools.filter((tool) => names.has(tool.name));
  }
  const hasTools = tools !== undefined && tools.length > 0;
  if (hasTools) out.tools = tools;
  const toolChoice = translateToolChoice(body, hasTools);
  if (toolChoice) out.tool_choice = toolChoice;

  // response_format: json_schema through a forced tool when nothing else competes for tool_choice,
  // otherwise (and for json_object) through a system instruction.
  let jsonToolName: string | null = null;
  const format = body.response_format;
  if (isObject(format) && (format.type === 'json_object' || format.type === 'json_schema')) {
    const schema = isObject(format.json_schema) && isObject(format.json_schema.schema) ? format.json_schema.schema : undefined;
    if (format.type === 'json_schema' && schema && !hasTools && !thinkingOn) {
      jsonToolName = jsonResponseToolName;
      const description =
        isObject(format.json_schema) && typeof format.json_schema.description === 'string'
          ? format.json_schema.description
          : 'Respond with the answer as this tool\u2019s input.';
      out.tools = [{ name: jsonToolName, description, input_schema: schema }];
      out.tool_choice = { type: 'tool', name: jsonToolName };
    } else {
      system.push({ type: 'text', text: schemaInstruction(format) });
    }
  } else if (isObject(format) && format.type !== 'text') {
    throw invalidRequest("'response_format.type' must be text, json_object or json_schema", 'response_format');
  }

  if (system.length > 0) {
    const plain = system.length === 1 && system[0]?.cache_control === undefined;
    out.system = plain ? system[0]?.text : system;
  }

  const metadata: Json = {};
  const userId = body.user ?? body.safety_identifier ?? (isObject(body.metadata) ? body.metadata.user_id : undefined);
  if (typeof userId === 'string' && userId !== '') metadata.user_id = userId;
  if (isObject(body.metadata) && Object.keys(body.metadata).some((key) => key !== 'user_id')) dropped.push('metadata');
  if (Object.keys(metadata).length > 0) out.metadata = metadata;

  if (body.service_tier !== undefined && body.service_tier !== null) {
    if (body.service_tier === 'auto' || body.service_tier === 'standard_only') out.service_tier = body.service_tier;
    else if (body.service_tier === 'default') out.service_tier = 'standard_only';
    else dropped.push('service_tier');
  }
  if (typeof body.n === 'number' && body.n !== 1) dropped.push('n');
  if (body.stream === true) out.stream = true;

  for (const key of Object.keys(body)) {
    if (handled.has(key)) continue;
    if (body[key] === undefined || body[key] === null || neutralValues[key] === body[key]) continue;
    // OpenAI fields without an Anthropic equivalent (frequency_penalty, presence_penalty, logit_bias, logprobs,
    // seed, modalities, audio, prediction, store...) and unknown fields alike: Anthropic rejects fields it does not know.
    dropped.push(key);
  }
  const includeUsage = isObject(body.stream_options) && body.stream_options.include_usage === true;
  return { body: out, droppedParams: [...new Set(dropped)], jsonToolName, includeUsage, reasoningEffort, clientMaxTokens };
}
