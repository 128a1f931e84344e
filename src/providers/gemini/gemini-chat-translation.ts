/**
 * Pure translation of OpenAI chat completion requests into the Gemini API's generateContent requests
 * (https://ai.google.dev/api/generate-content); answers go back in gemini-response-translation.ts. No I/O here.
 *
 * Choices worth knowing (docs/providers-gemini.md has the full table):
 * - Images: `data:` URLs become `inlineData` (base64 stays inline); http(s) URLs become `fileData.fileUri`,
 *   so the gateway never downloads client-supplied URLs (no SSRF, no buffering); Gemini fetches them itself.
 * - Schemas: OpenAI tools and `response_format.json_schema` carry JSON Schema, so they go to Gemini's
 *   `parametersJsonSchema` / `responseJsonSchema`, which accept JSON Schema as is (the older `parameters` /
 *   `responseSchema` take an OpenAPI subset and reject keys such as `additionalProperties`).
 * - Thought signatures (https://ai.google.dev/gemini-api/docs/thought-signatures): a `thoughtSignature` on a
 *   functionCall part travels in the OpenAI tool call as `extra_content.google.thought_signature`, the shape
 *   Google's own OpenAI-compatible endpoint uses, and is put back on the functionCall part when the client
 *   sends the assistant turn back.
 */
import { invalidRequest } from '../../core/errors.ts';
import type { Json } from '../types.ts';

export interface GeminiChatRequest {
  model: string;
  stream: boolean;
  /** Whether the client asked for `stream_options.include_usage`. */
  includeUsage: boolean;
  body: Json;
}

/** Parameters read by the translation; anything else at the top level is reported as dropped. */
const handledParams = new Set([
  'model',
  'messages',
  'stream',
  'stream_options',
  'temperature',
  'top_p',
  'max_tokens',
  'max_completion_tokens',
  'stop',
  'n',
  'presence_penalty',
  'frequency_penalty',
  'seed',
  'response_format',
  'reasoning_effort',
  'tools',
  'tool_choice',
]);

export function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function numberParam(body: Json, name: string): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidRequest(`'${name}' must be a number`, name, 'invalid_type');
  return value;
}

/** Splits a `data:` URL into its MIME type and base64 payload. */
export function parseDataUrl(url: string): { mimeType: string; data: string } | null {
  const match = /^data:([^;,]+)?((?:;[^;,]+)*?);base64,(.*)$/s.exec(url);
  if (!match) return null;
  return { mimeType: match[1] ?? 'application/octet-stream', data: match[3] ?? '' };
}

const extensionMimeTypes: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
  mp3: 'audio/mp3',
  wav: 'audio/wav',
  mp4: 'video/mp4',
};

function mimeTypeFromUrl(url: string): string | undefined {
  try {
    const extension = /\.([a-z0-9]+)$/i.exec(new URL(url).pathname)?.[1]?.toLowerCase();
    return extension ? extensionMimeTypes[extension] : undefined;
  } catch {
    return undefined;
  }
}

function mediaPart(url: string, param: string): Json {
  if (url.startsWith('data:')) {
    const parsed = parseDataUrl(url);
    if (!parsed) throw invalidRequest('Only base64 data URLs are supported', param, 'invalid_value');
    return { inlineData: { mimeType: parsed.mimeType, data: parsed.data } };
  }
  if (/^https?:\/\//i.test(url) || url.startsWith('gs://')) {
    const mimeType = mimeTypeFromUrl(url);
    return { fileData: mimeType ? { mimeType, fileUri: url } : { fileUri: url } };
  }
  throw invalidRequest('Image URLs must be data: or http(s) URLs', param, 'invalid_value');
}

/** Converts OpenAI message content (string or parts) into Gemini parts. */
export function contentToParts(content: unknown, param: string): Json[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  if (!Array.isArray(content)) throw invalidRequest('Message content must be a string or an array of parts', param, 'invalid_type');
  const parts: Json[] = [];
  content.forEach((item: unknown, index) => {
    const partParam = `${param}[${index}]`;
    if (!isObject(item)) throw invalidRequest('Content parts must be objects', partParam, 'invalid_type');
    switch (item.type) {
      case 'text':
      case 'input_text':
        if (typeof item.text !== 'string') throw invalidRequest("Text parts need a string 'text'", partParam, 'invalid_type');
        // Gemini rejects empty text parts ("empty text parameter"); they carry nothing anyway.
        if (item.text !== '') parts.push({ text: item.text });
        break;
      case 'image_url': {
        const imageUrl = item.image_url;
        const url = typeof imageUrl === 'string' ? imageUrl : isObject(imageUrl) ? imageUrl.url : undefined;
        if (typeof url !== 'string') throw invalidRequest("Image parts need 'image_url.url'", partParam, 'invalid_type');
        parts.push(mediaPart(url, `${partParam}.image_url.url`));
        break;
      }
      case 'input_audio': {
        const audio = isObject(item.input_audio) ? item.input_audio : {};
        if (typeof audio.data !== 'string') throw invalidRequest("Audio parts need 'input_audio.data'", partParam, 'invalid_type');
        const format = typeof audio.format === 'string' ? audio.format : 'wav';
        parts.push({ inlineData: { mimeType: `audio/${format}`, data: audio.data } });
        break;
      }
      case 'file': {
        const file = isObject(item.file) ? item.file : {};
        if (typeof file.file_data !== 'string')
          throw invalidRequest("File parts need 'file.file_data' (a data URL)", partParam, 'invalid_type');
        parts.push(mediaPart(file.file_data, `${partParam}.file.file_data`));
        break;
      }
      case 'refusal':
        if (typeof item.refusal === 'string') parts.push({ text: item.refusal });
        break;
      default:
        throw invalidRequest(`Content part type '${String(item.type)}' is not supported by Gemini`, partParam, 'invalid_value');
    }
  });
  return parts;
}

function parseArguments(text: unknown, param: string): Json {
  if (isObject(text)) return text;
  if (typeof text !== 'string' || text.trim() === '') return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (isObject(parsed)) return parsed;
  } catch {
    // fall through
  }
  throw invalidRequest('Tool call arguments must be a JSON object', param, 'invalid_value');
}

/** A tool result as a functionResponse `response` Struct: JSON objects as they are, anything else wrapped. */
function toolResponseValue(content: unknown): Json {
  const text =
    typeof content === 'string'
      ? content
      : Array.isArray(content)
        ? content.map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : '')).join('')
        : '';
  try {
    const parsed = JSON.parse(text) as unknown;
    if (isObject(parsed)) return parsed;
    return { result: parsed };
  } catch {
    return { result: text };
  }
}

/** Reads `extra_content.google.thought_signature` from an OpenAI tool call or assistant message. */
export function thoughtSignatureOf(carrier: Json): string | undefined {
  const extra = carrier.extra_content;
  const google = isObject(extra) ? extra.google : undefined;
  const signature = isObject(google) ? google.thought_signature : undefined;
  return typeof signature === 'string' && signature !== '' ? signature : undefined;
}

function pushContent(contents: Json[], role: 'user' | 'model', parts: Json[]): void {
  if (parts.length === 0) return;
  const previous = contents.at(-1);
  // Gemini wants turns to alternate; consecutive messages of one role (parallel tool results, a user
  // text after tool results) become one turn.
  if (previous && previous.role === role) (previous.parts as Json[]).push(...parts);
  else contents.push({ role, parts });
}

function translateMessages(messages: unknown[]): { contents: Json[]; systemParts: Json[] } {
  const contents: Json[] = [];
  const systemParts: Json[] = [];
  const toolNames = new Map<string, string>();
  messages.forEach((raw, index) => {
    const param = `messages[${index}]`;
    if (!isObject(raw)) throw invalidRequest('Messages must be objects', param, 'invalid_type');
    const role = raw.role;
    if (role === 'system' || role === 'developer') {
      systemParts.push(...contentToParts(raw.content, `${param}.content`));
      return;
    }
    if (role === 'user') {
      pushContent(contents, 'user', contentToParts(raw.content, `${param}.content`));
      return;
    }
    if (role === 'assistant') {
      const parts = contentToParts(raw.content, `${param}.content`);
      const toolCalls = Array.isArray(raw.tool_calls) ? raw.tool_calls : [];
      toolCalls.forEach((call: unknown, callIndex) => {
        const callParam = `${param}.tool_calls[${callIndex}]`;
        if (!isObject(call) || !isObject(call.function) || typeof call.function.name !== 'string') {
          throw invalidRequest('Tool calls need function.name', callParam, 'invalid_value');
        }
        const name = call.function.name;
        if (typeof call.id === 'string') toolNames.set(call.id, name);
        const part: Json = { functionCall: { name, args: parseArguments(call.function.arguments, `${callParam}.function.arguments`) } };
        const signature = thoughtSignatureOf(call);
        if (signature) part.thoughtSignature = signature;
        parts.push(part);
      });
      // A signature Gemini put on a text part comes back as message-level extra_content; it returns to the last text part.
      const textSignature = thoughtSignatureOf(raw);
      const lastText = [...parts].reverse().find((part) => typeof part.text === 'string');
      if (textSignature && lastText) lastText.thoughtSignature = textSignature;
      if (isObject(raw.function_call) && typeof raw.function_call.name === 'string') {
        parts.push({
          functionCall: {
            name: raw.function_call.name,
            args: parseArguments(raw.function_call.arguments, `${param}.function_call.arguments`),
          },
        });
      }
      pushContent(contents, 'model', parts);
      return;
    }
    if (role === 'tool' || role === 'function') {
      const id = typeof raw.tool_call_id === 'string' ? raw.tool_call_id : undefined;
      const name = (id === undefined ? undefined : toolNames.get(id)) ?? (typeof raw.name === 'string' ? raw.name : undefined);
      if (name === undefined) {
        throw invalidRequest(
          `Tool message refers to tool_call_id '${id ?? ''}', which no earlier assistant message called`,
          `${param}.tool_call_id`,
          'invalid_value',
        );
      }
      pushContent(contents, 'user', [{ functionResponse: { name, response: toolResponseValue(raw.content) } }]);
      return;
    }
    throw invalidRequest(`Unsupported message role '${String(role)}'`, `${param}.role`, 'invalid_value');
  });
  return { contents, systemParts };
}

/** Gemini 2.5 thinking budgets per effort, after Google's OpenAI compatibility mapping. */
const thinkingBudgets: Record<string, number> = { none: 0, minimal: 1024, low: 1024, medium: 8192, high: 24576 };

/** Maps `reasoning_effort` to thinkingConfig: Gemini 3 takes a thinkingLevel, earlier models a token budget. */
export function thinkingConfigFor(model: string, effort: string): Json {
  const budget = thinkingBudgets[effort];
  if (budget === undefined) throw invalidRequest(`Unsupported reasoning_effort '${effort}'`, 'reasoning_effort', 'invalid_value');
  if (/(^|\/)gemini-[3-9]/.test(model)) {
    const level = effort === 'none' || effort === 'minimal' ? 'low' : effort;
    return { thinkingLevel: level, includeThoughts: true };
  }
  return effort === 'none' ? { thinkingBudget: 0 } : { thinkingBudget: budget, includeThoughts: true };
}

function translateTools(tools: unknown, droppedParams: string[]): Json[] | undefined {
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw invalidRequest("'tools' must be an array", 'tools', 'invalid_type');
  const declarations: Json[] = [];
  tools.forEach((tool: unknown, index) => {
    if (!isObject(tool)) throw invalidRequest('Tools must be objects', `tools[${index}]`, 'invalid_type');
    if (tool.type !== 'function' || !isObject(tool.function)) {
      droppedParams.push(`tools[${index}]`);
      return;
    }
    const fn = tool.function;
    if (typeof fn.name !== 'string' || fn.name === '')
      throw invalidRequest('Function tools need a name', `tools[${index}].function.name`, 'invalid_value');
    const declaration: Json = { name: fn.name };
    if (typeof fn.description === 'string') declaration.description = fn.description;
    if (isObject(fn.parameters)) declaration.parametersJsonSchema = fn.parameters;
    declarations.push(declaration);
  });
  return declarations.length > 0 ? [{ functionDeclarations: declarations }] : undefined;
}

function translateToolChoice(choice: unknown): Json | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (isObject(choice)) {
    if (choice.type === 'function' && isObject(choice.function) && typeof choice.function.name === 'string') {
      return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
    }
    if (choice.type === 'allowed_tools' && isObject(choice.allowed_tools)) {
      const allowed = choice.allowed_tools;
      const names = (Array.isArray(allowed.tools) ? allowed.tools : [])
        .map((tool: unknown) => (isObject(tool) && isObject(tool.function) ? tool.function.name : undefined))
        .filter((name): name is string => typeof name === 'string');
      return { functionCallingConfig: { mode: allowed.mode === 'required' ? 'ANY' : 'AUTO', allowedFunctionNames: names } };
    }
  }
  throw invalidRequest("'tool_choice' must be 'none', 'auto', 'required' or a function choice", 'tool_choice', 'invalid_value');
}

function translateResponseFormat(format: unknown, config: Json): void {
  if (format === undefined || format === null) return;
  if (!isObject(format)) throw invalidRequest("'response_format' must be an object", 'response_format', 'invalid_type');
  if (format.type === 'text') return;
  if (format.type === 'json_object') {
    config.responseMimeType = 'application/json';
    return;
  }
  if (format.type === 'json_schema') {
    config.responseMimeType = 'application/json';
    const schema = isObject(format.json_schema) ? format.json_schema.schema : undefined;
    if (isObject(schema)) config.responseJsonSchema = schema;
    return;
  }
  throw invalidRequest(`Unsupported response_format type '${String(format.type)}'`, 'response_format.type', 'invalid_value');
}

/** OpenAI chat completion request -> Gemini GenerateContentRequest. Unmappable parameters go to `droppedParams`. */
export function chatRequestToGemini(body: Json, droppedParams: string[]): GeminiChatRequest {
  const model = typeof body.model === 'string' ? body.model.replace(/^models\//, '') : '';
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const { contents, systemParts } = translateMessages(messages);
  if (contents.length === 0) throw invalidRequest('Gemini needs at least one user or assistant message', 'messages', 'invalid_value');
  const request: Json = { contents };
  if (systemParts.length > 0) request.systemInstruction = { parts: systemParts };

  const config: Json = {};
  const temperature = numberParam(body, 'temperature');
  if (temperature !== undefined) config.temperature = temperature;
  const topP = numberParam(body, 'top_p');
  if (topP !== undefined) config.topP = topP;
  const maxTokens = numberParam(body, 'max_completion_tokens') ?? numberParam(body, 'max_tokens');
  if (maxTokens !== undefined) config.maxOutputTokens = maxTokens;
  const stop = body.stop;
  if (typeof stop === 'string') config.stopSequences = [stop];
  else if (Array.isArray(stop) && stop.length > 0) config.stopSequences = stop;
  const n = numberParam(body, 'n');
  if (n !== undefined && n !== 1) config.candidateCount = n;
  const presence = numberParam(body, 'presence_penalty');
  if (presence !== undefined) config.presencePenalty = presence;
  const frequency = numberParam(body, 'frequency_penalty');
  if (frequency !== undefined) config.frequencyPenalty = frequency;
  const seed = numberParam(body, 'seed');
  if (seed !== undefined) config.seed = seed;
  translateResponseFormat(body.response_format, config);
  if (typeof body.reasoning_effort === 'string') config.thinkingConfig = thinkingConfigFor(model, body.reasoning_effort);
  if (Object.keys(config).length > 0) request.generationConfig = config;

  const tools = translateTools(body.tools, droppedParams);
  if (tools) request.tools = tools;
  const toolConfig = translateToolChoice(body.tool_choice);
  if (toolConfig && tools) request.toolConfig = toolConfig;

  for (const key of Object.keys(body)) {
    if (!handledParams.has(key) && body[key] !== undefined && body[key] !== null) droppedParams.push(key);
  }
  const stream = body.stream === true;
  const includeUsage = isObject(body.stream_options) && body.stream_options.include_usage === true;
  return { model, stream, includeUsage, body: request };
}
