/**
 * Gemini GenerateContentRequest (https://ai.google.dev/api/generate-content#request-body) -> the canonical
 * chat completions body, for the Gemini API inbound. Pure: no I/O.
 *
 * - `contents[]` (roles `user` / `model`) become user and assistant messages; `functionCall` parts become
 *   assistant `tool_calls` with ids `call_<n>` (or the part's own `id`), and `functionResponse` parts become
 *   `tool` messages answering the earliest unanswered call of that name (or the one with their `id`).
 * - `thoughtSignature` on a functionCall part travels as `extra_content.google.thought_signature`, the carrier
 *   the Gemini provider reads (src/providers/gemini/gemini-chat-translation.ts), so a Gemini target gets it back.
 * - Function declarations: `parametersJsonSchema` is JSON Schema already; `parameters` (Gemini's OpenAPI
 *   Schema subset, https://ai.google.dev/api/caching#Schema, types in capitals) is rewritten to JSON Schema.
 * - Settings that have no chat equivalent (topK, safetySettings, cachedContent, built-in tools) are reported
 *   as dropped (`X-Modelgate-Dropped-Params`), never silently lost.
 */
import { invalidRequest } from '../core/errors.ts';
import type { Json } from '../providers/types.ts';

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const handledFields = new Set(['model', 'contents', 'systemInstruction', 'tools', 'toolConfig', 'generationConfig']);

const handledGenerationFields = new Set([
  'temperature',
  'topP',
  'maxOutputTokens',
  'stopSequences',
  'candidateCount',
  'presencePenalty',
  'frequencyPenalty',
  'seed',
  'responseMimeType',
  'responseSchema',
  'responseJsonSchema',
  '_responseJsonSchema',
  'thinkingConfig',
]);

/** Gemini Schema (OpenAPI subset) -> JSON Schema: capital type names lowered, `nullable` folded into the type. */
export function geminiSchemaToJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(geminiSchemaToJsonSchema);
  if (!isObject(schema)) return schema;
  const result: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'nullable' || key === 'propertyOrdering') continue;
    if (key === 'type' && typeof value === 'string') result.type = value === 'TYPE_UNSPECIFIED' ? undefined : value.toLowerCase();
    else if (key === 'properties' && isObject(value)) {
      result.properties = Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, geminiSchemaToJsonSchema(inner)]));
    } else if (key === 'items' || key === 'anyOf') result[key] = geminiSchemaToJsonSchema(value);
    else result[key] = value;
  }
  if (result.type === undefined) delete result.type;
  if (schema.nullable === true && typeof result.type === 'string') result.type = [result.type, 'null'];
  return result;
}

function mediaUrl(mimeType: unknown, data: string): string {
  return `data:${typeof mimeType === 'string' && mimeType !== '' ? mimeType : 'application/octet-stream'};base64,${data}`;
}

/** A user-side part (text or media) as a chat content part, or null for a part the caller handles. */
function userContentPart(part: Json, param: string): Json | null {
  if (typeof part.text === 'string') return part.thought === true ? null : { type: 'text', text: part.text };
  if (isObject(part.inlineData)) {
    const { mimeType, data } = part.inlineData;
    if (typeof data !== 'string') throw invalidRequest('inlineData.data must be a base64 string', `${param}.inlineData.data`, 'invalid_type');
    const url = mediaUrl(mimeType, data);
    if (typeof mimeType === 'string' && mimeType.startsWith('image/')) return { type: 'image_url', image_url: { url } };
    return { type: 'file', file: { file_data: url } };
  }
  if (isObject(part.fileData)) {
    const uri = part.fileData.fileUri;
    if (typeof uri !== 'string') throw invalidRequest('fileData.fileUri must be a string', `${param}.fileData.fileUri`, 'invalid_type');
    return { type: 'image_url', image_url: { url: uri } };
  }
  return null;
}

/** Chat content from parts: a plain string when it is text only. */
function chatContent(parts: Json[]): string | Json[] {
  if (parts.every((part) => part.type === 'text')) return parts.map((part) => part.text as string).join('');
  return parts;
}

interface PendingCall {
  id: string;
  name: string;
}

interface Translation {
  messages: Json[];
  pending: PendingCall[];
  nextId: number;
}

function modelTurn(turn: Json[], param: string, state: Translation): Json {
  const message: Json = { role: 'assistant', content: null };
  const toolCalls: Json[] = [];
  let text = '';
  let hasText = false;
  turn.forEach((part, index) => {
    const partParam = `${param}.parts[${index}]`;
    if (isObject(part.functionCall)) {
      const call = part.functionCall;
      if (typeof call.name !== 'string' || call.name === '') throw invalidRequest('functionCall.name is required', `${partParam}.functionCall.name`, 'invalid_value');
      const id = typeof call.id === 'string' && call.id !== '' ? call.id : `call_${state.nextId++}`;
      const toolCall: Json = { id, type: 'function', function: { name: call.name, arguments: JSON.stringify(isObject(call.args) ? call.args : {}) } };
      if (typeof part.thoughtSignature === 'string') toolCall.extra_content = { google: { thought_signature: part.thoughtSignature } };
      toolCalls.push(toolCall);
      state.pending.push({ id, name: call.name });
    } else if (typeof part.text === 'string' && part.thought !== true) {
      text += part.text;
      hasText = true;
      if (typeof part.thoughtSignature === 'string') message.extra_content = { google: { thought_signature: part.thoughtSignature } };
    }
  });
  if (hasText) message.content = text;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  else if (!hasText) message.content = '';
  return message;
}

function toolMessage(response: Json, param: string, state: Translation): Json {
  if (typeof response.name !== 'string' || response.name === '') {
    throw invalidRequest('functionResponse.name is required', `${param}.functionResponse.name`, 'invalid_value');
  }
  const name = response.name;
  const byId = typeof response.id === 'string' ? state.pending.findIndex((call) => call.id === response.id) : -1;
  const index = byId !== -1 ? byId : state.pending.findIndex((call) => call.name === name);
  if (index === -1) {
    throw invalidRequest(`functionResponse '${name}' answers no earlier functionCall of that name`, `${param}.functionResponse`, 'invalid_value');
  }
  const [call] = state.pending.splice(index, 1) as [PendingCall];
  const value = response.response;
  return { role: 'tool', tool_call_id: call.id, content: JSON.stringify(value === undefined ? {} : value) };
}

function userTurn(turn: Json[], param: string, state: Translation): Json[] {
  const messages: Json[] = [];
  const content: Json[] = [];
  turn.forEach((part, index) => {
    const partParam = `${param}.parts[${index}]`;
    if (isObject(part.functionResponse)) {
      messages.push(toolMessage(part.functionResponse, partParam, state));
      return;
    }
    const converted = userContentPart(part, partParam);
    if (converted) content.push(converted);
    else if (typeof part.text !== 'string') throw invalidRequest('Unsupported part in a user turn', partParam, 'invalid_value');
  });
  if (content.length > 0) messages.push({ role: 'user', content: chatContent(content) });
  return messages;
}

function partsOf(content: unknown, param: string): Json[] {
  if (!isObject(content)) throw invalidRequest(`${param} must be a Content object`, param, 'invalid_type');
  const parts = content.parts;
  if (!Array.isArray(parts)) throw invalidRequest(`${param}.parts must be an array`, `${param}.parts`, 'invalid_type');
  parts.forEach((part: unknown, index) => {
    if (!isObject(part)) throw invalidRequest('Parts must be objects', `${param}.parts[${index}]`, 'invalid_type');
  });
  return parts as Json[];
}

function translateTools(tools: unknown, dropped: string[]): Json[] | undefined {
  if (tools === undefined) return undefined;
  if (!Array.isArray(tools)) throw invalidRequest('tools must be an array', 'tools', 'invalid_type');
  const result: Json[] = [];
  tools.forEach((tool: unknown, index) => {
    if (!isObject(tool)) throw invalidRequest('Tools must be objects', `tools[${index}]`, 'invalid_type');
    for (const key of Object.keys(tool)) if (key !== 'functionDeclarations') dropped.push(`tools[${index}].${key}`);
    const declarations = tool.functionDeclarations;
    if (declarations === undefined) return;
    if (!Array.isArray(declarations)) throw invalidRequest('functionDeclarations must be an array', `tools[${index}].functionDeclarations`, 'invalid_type');
    declarations.forEach((declaration: unknown, position) => {
      const param = `tools[${index}].functionDeclarations[${position}]`;
      if (!isObject(declaration) || typeof declaration.name !== 'string' || declaration.name === '') {
        throw invalidRequest('Function declarations need a name', `${param}.name`, 'invalid_value');
      }
      const fn: Json = { name: declaration.name };
      if (typeof declaration.description === 'string') fn.description = declaration.description;
      if (isObject(declaration.parametersJsonSchema)) fn.parameters = declaration.parametersJsonSchema;
      else if (isObject(declaration.parameters)) fn.parameters = geminiSchemaToJsonSchema(declaration.parameters);
      else fn.parameters = { type: 'object', properties: {} };
      result.push({ type: 'function', function: fn });
    });
  });
  return result.length > 0 ? result : undefined;
}

function translateToolConfig(toolConfig: unknown, dropped: string[]): unknown {
  if (toolConfig === undefined) return undefined;
  if (!isObject(toolConfig)) throw invalidRequest('toolConfig must be an object', 'toolConfig', 'invalid_type');
  const config = toolConfig.functionCallingConfig;
  if (!isObject(config)) {
    if (Object.keys(toolConfig).length > 0) dropped.push('toolConfig');
    return undefined;
  }
  const mode = config.mode ?? 'AUTO';
  const names = Array.isArray(config.allowedFunctionNames) ? config.allowedFunctionNames.filter((name) => typeof name === 'string') : [];
  if (mode === 'NONE') return 'none';
  if (mode === 'AUTO' || mode === 'MODE_UNSPECIFIED') {
    if (names.length > 0) dropped.push('toolConfig.functionCallingConfig.allowedFunctionNames');
    return 'auto';
  }
  if (mode === 'ANY' || mode === 'VALIDATED') {
    if (names.length === 1) return { type: 'function', function: { name: names[0] } };
    if (names.length > 1) {
      return { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: names.map((name) => ({ type: 'function', function: { name } })) } };
    }
    return 'required';
  }
  throw invalidRequest(`Unknown functionCallingConfig.mode '${String(mode)}'`, 'toolConfig.functionCallingConfig.mode', 'invalid_value');
}

function numberField(config: Json, name: string): number | undefined {
  const value = config[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidRequest(`generationConfig.${name} must be a number`, `generationConfig.${name}`, 'invalid_type');
  return value;
}

function reasoningEffort(thinking: unknown): string | undefined {
  if (!isObject(thinking)) return undefined;
  if (typeof thinking.thinkingLevel === 'string') return thinking.thinkingLevel.toLowerCase();
  const budget = thinking.thinkingBudget;
  if (typeof budget !== 'number' || budget < 0) return undefined;
  if (budget === 0) return 'none';
  return budget <= 1024 ? 'low' : budget <= 8192 ? 'medium' : 'high';
}

function translateGenerationConfig(config: unknown, body: Json, dropped: string[]): void {
  if (config === undefined) return;
  if (!isObject(config)) throw invalidRequest('generationConfig must be an object', 'generationConfig', 'invalid_type');
  for (const key of Object.keys(config)) if (!handledGenerationFields.has(key)) dropped.push(`generationConfig.${key}`);
  const numbers: [string, string][] = [
    ['temperature', 'temperature'],
    ['topP', 'top_p'],
    ['maxOutputTokens', 'max_tokens'],
    ['candidateCount', 'n'],
    ['presencePenalty', 'presence_penalty'],
    ['frequencyPenalty', 'frequency_penalty'],
    ['seed', 'seed'],
  ];
  for (const [from, to] of numbers) {
    const value = numberField(config, from);
    if (value !== undefined) body[to] = value;
  }
  if (config.stopSequences !== undefined) {
    if (!Array.isArray(config.stopSequences)) throw invalidRequest('generationConfig.stopSequences must be an array', 'generationConfig.stopSequences', 'invalid_type');
    body.stop = config.stopSequences;
  }
  const schema = config.responseJsonSchema ?? config._responseJsonSchema ?? (isObject(config.responseSchema) ? geminiSchemaToJsonSchema(config.responseSchema) : undefined);
  if (isObject(schema)) body.response_format = { type: 'json_schema', json_schema: { name: 'response', schema } };
  else if (config.responseMimeType === 'application/json') body.response_format = { type: 'json_object' };
  const effort = reasoningEffort(config.thinkingConfig);
  if (effort !== undefined) body.reasoning_effort = effort;
}

/** A Gemini generateContent body for `model` -> a chat completions body. Unmapped settings go to `dropped`. */
export function geminiRequestToChat(request: Json, model: string, stream: boolean, dropped: string[]): Json {
  for (const key of Object.keys(request)) if (!handledFields.has(key)) dropped.push(key);
  const contents = request.contents;
  if (!Array.isArray(contents) || contents.length === 0) throw invalidRequest('contents must be a non-empty array', 'contents', 'invalid_value');
  const state: Translation = { messages: [], pending: [], nextId: 0 };
  if (request.systemInstruction !== undefined) {
    const parts = partsOf(request.systemInstruction, 'systemInstruction');
    const text = parts.map((part) => (typeof part.text === 'string' ? part.text : '')).join('');
    if (text !== '') state.messages.push({ role: 'system', content: text });
  }
  contents.forEach((content: unknown, index) => {
    const param = `contents[${index}]`;
    const parts = partsOf(content, param);
    const role = (content as Json).role ?? 'user';
    if (role === 'model') state.messages.push(modelTurn(parts, param, state));
    else if (role === 'user' || role === 'function') state.messages.push(...userTurn(parts, param, state));
    else throw invalidRequest(`Unknown role '${String(role)}' (use 'user' or 'model')`, `${param}.role`, 'invalid_value');
  });
  if (state.messages.every((message) => message.role === 'system')) throw invalidRequest('contents has no content', 'contents', 'invalid_value');
  const body: Json = { model, messages: state.messages };
  const tools = translateTools(request.tools, dropped);
  if (tools) body.tools = tools;
  const toolChoice = translateToolConfig(request.toolConfig, dropped);
  if (toolChoice !== undefined && tools) body.tool_choice = toolChoice;
  translateGenerationConfig(request.generationConfig, body, dropped);
  if (stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  return body;
}
