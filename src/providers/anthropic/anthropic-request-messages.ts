/**
 * OpenAI chat messages -> Anthropic Messages `system` and `messages` (https://docs.anthropic.com/en/api/messages):
 * content parts to blocks, tool calls to tool_use, tool messages to tool_result, system and developer
 * messages folded into `system`. Pure; unmappable parts are listed in `dropped`.
 */
import { invalidRequest } from '../../core/errors.ts';
import type { Json } from '../types.ts';

export function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function withCacheControl(block: Json, source: Json): Json {
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

export function translateMessages(rawMessages: unknown[], dropped: string[]): Translated {
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
