/**
 * A provider simulator speaking the OpenAI wire format, with each OpenAI-compatible provider's quirks.
 *
 * Formats follow the OpenAI API reference:
 * - Chat completions object and chunk object: https://platform.openai.com/docs/api-reference/chat/object
 *   and https://platform.openai.com/docs/api-reference/chat/streaming (SSE `data: {...}` lines, then
 *   `data: [DONE]`; with `stream_options.include_usage` every chunk carries `"usage":null` and one last
 *   chunk has `"choices":[]` and the usage).
 * - Embeddings: https://platform.openai.com/docs/api-reference/embeddings/object (`encoding_format`
 *   base64 is little-endian float32, which the openai SDK asks for by default).
 * - Models: https://platform.openai.com/docs/api-reference/models/list
 * - Speech: https://platform.openai.com/docs/api-reference/audio/createSpeech (POST /v1/audio/speech, JSON in,
 *   the audio file out as `audio/mpeg` bytes, sent in chunks as it is produced).
 * - Transcriptions: https://platform.openai.com/docs/api-reference/audio/createTranscription (multipart/form-data
 *   with `file` and `model`; answers {"text"}). The upload is read as it arrives; `uploadedBytes()` tells how much
 *   of the file has come in so far.
 * - Files and batches: see openai-files-simulator.ts (https://platform.openai.com/docs/api-reference/files and
 *   https://platform.openai.com/docs/api-reference/batch).
 * - Errors: https://platform.openai.com/docs/guides/error-codes ({"error":{"message","type","param","code"}};
 *   429 responses carry Retry-After and x-ratelimit-* headers:
 *   https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers).
 * Quirks:
 * - azure: /openai/deployments/{deployment}/{endpoint}?api-version=..., `api-key` header
 *   (https://learn.microsoft.com/en-us/azure/ai-services/openai/reference).
 * - groq: final chunk carries `x_groq.usage` (https://console.groq.com/docs/api-reference#chat-create).
 * - mistral: rejects unknown fields such as stream_options with 422; the last chunk carries usage
 *   (https://docs.mistral.ai/api/#tag/chat/operation/chat_completion_v1_chat_completions_post).
 * - zai: the last chunk carries usage (https://docs.z.ai/api-reference/llm/chat-completion).
 * - ollama: no key at all.
 *
 * Behaviour is chosen by the model name: `sim-rate-limited`, `sim-server-error`, `sim-overloaded`,
 * `sim-bad-request`, `sim-slow-<ms>` (delays headers), `sim-hang-stream` (one chunk, then nothing),
 * `sim-garbage` (non-JSON 200), `sim-verbatim` (answers with the last user message exactly, no prefix); any
 * other model answers by echoing the last user message, or with tools calls the first one with
 * `{"location":"Paris"}` (the tool and arguments a `[[sim-tool NAME {...}]]` directive in the last user message
 * names, see scripted-tool-call.ts), and after a tool message says what the tool said.
 * Embedding models named `sim-semantic...` answer with word-bag embeddings where similar texts are near
 * (semantic-embeddings.ts).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { scriptedToolCall } from './scripted-tool-call.ts';
import { createSimulatorServer, listenSimulator, readRequestJson } from './simulator-server.ts';
import busboy from 'busboy';
import { createFilesSimulator, type FilesSimulator } from './openai-files-simulator.ts';
import { simulateResponses } from './openai-responses-simulator.ts';
import { semanticEmbedding } from './semantic-embeddings.ts';
import { createFaultScript, type FaultStep, playFault } from './scripted-faults.ts';

export type SimulatorFlavor = 'openai' | 'azure' | 'groq' | 'mistral' | 'zai' | 'ollama' | 'openrouter' | 'xai' | 'deepseek' | 'oracle';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown> | undefined;
  /** Set when the client went away before the response finished. */
  aborted: boolean;
}

export interface SimulatorOptions {
  flavor?: SimulatorFlavor;
  /** Expected key (or keys); requests without one get 401. Omit for keyless (Ollama). */
  apiKey?: string | string[];
  models?: string[];
  /** Path prefix of the API, default `/v1` (Azure ignores it). */
  prefix?: string;
  /** Milliseconds between streamed chunks. */
  chunkDelayMs?: number;
  /** Milliseconds before answering a model call (a slow or queued upstream). */
  answerDelayMs?: number;
  /** Milliseconds before answering GET /models (a provider slow to list its models). */
  modelsDelayMs?: number;
  /** Where uploaded files are kept (default the system temp directory). */
  filesDir?: string;
  /** False: the server has no Responses API (vLLM, LM Studio): POST /v1/responses answers 404 for every model. */
  responsesApi?: boolean;
}

export interface Simulator {
  url: string;
  /** Base URL to configure in the gateway (`url + prefix`, or the resource URL for Azure). */
  baseUrl: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
  /** Resolves when a request to `sim-hang-stream` has been aborted by the gateway. */
  waitForAbort(): Promise<void>;
  /** Makes the next requests for `model` (`*`: any model) play these failures in order (see scripted-faults.ts). */
  script(model: string, steps: FaultStep[]): void;
  /** The next requests answer these HTTP statuses (OpenAI error bodies, Retry-After on 503) in order. */
  injectFaults(statuses: number[]): void;
  /**
   * Holds the next speech answer after its first `firstBytes` bytes until `release()` is called, so a test
   * can see those bytes arrive through the gateway before the rest exists.
   */
  holdNextSpeech(firstBytes: number): { release(): void };
  /** Bytes of uploaded file parts received so far (all uploads). */
  uploadedBytes(): number;
  /** The Files and Batch APIs' state and controls. */
  filesApi: FilesSimulator;
}

type Json = Record<string, unknown>;

const defaultModels = ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small'];

export function countTokens(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (part && typeof part === 'object' && typeof (part as Json).text === 'string' ? ((part as Json).text as string) : ''))
      .join(' ');
  }
  return '';
}

/** Deterministic prompt token count: words in all message contents. */
export function promptTokens(messages: unknown): number {
  if (!Array.isArray(messages)) return 0;
  let total = 0;
  for (const message of messages) total += countTokens(messageText((message as Json).content));
  return total;
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

function openAIError(response: ServerResponse, status: number, message: string, type: string, code: string | null, headers: Record<string, string> = {}): void {
  sendJson(response, status, { error: { message, type, param: null, code } }, headers);
}

/**
 * Groq answers 400 to a chat field it does not define (https://console.groq.com/docs/api-reference#chat-create
 * lists them; the message names the property) and to reasoning_effort on a model that does not reason
 * (https://console.groq.com/docs/reasoning: gpt-oss and Qwen 3). OpenAI answers 400 "Unsupported parameter:
 * 'reasoning_effort' is not supported with this model." on GPT-4o models
 * (https://platform.openai.com/docs/guides/reasoning), and max_tokens above a model's output limit.
 * Returns true when it answered.
 */
function refusesParameters(flavor: SimulatorFlavor, model: string, body: Json, response: ServerResponse): boolean {
  if (flavor === 'groq') {
    const unknown = Object.keys(body).find((key) => !groqChatFields.has(key));
    if (unknown !== undefined) {
      sendJson(response, 400, { error: { message: `property '${unknown}' is unsupported`, type: 'invalid_request_error' } });
      return true;
    }
    if (body.reasoning_effort !== undefined && !/gpt-oss|qwen3/.test(model)) {
      sendJson(response, 400, { error: { message: '`reasoning_effort` is not supported with this model', type: 'invalid_request_error', param: 'reasoning_effort' } });
      return true;
    }
  }
  const requested = body.max_completion_tokens ?? body.max_tokens;
  const limit = outputLimits[model];
  if (flavor === 'openai' && typeof requested === 'number' && limit !== undefined && requested > limit) {
    const param = body.max_completion_tokens === undefined ? 'max_tokens' : 'max_completion_tokens';
    openAIError(response, 400, `${param} is too large: ${requested}. This model supports at most ${limit} completion tokens, whereas you provided ${requested}.`, 'invalid_request_error', 'invalid_value');
    return true;
  }
  if (flavor === 'openai' && body.reasoning_effort !== undefined && /^gpt-4/.test(model)) {
    openAIError(response, 400, "Unsupported parameter: 'reasoning_effort' is not supported with this model.", 'invalid_request_error', 'unsupported_parameter');
    return true;
  }
  return false;
}

/** Output limits OpenAI enforces with a 400 (https://platform.openai.com/docs/models/gpt-4o-mini: 16,384). */
const outputLimits: Record<string, number> = { 'gpt-4o-mini': 16384, 'gpt-4o': 16384 };

/** Groq's chat request fields, https://console.groq.com/docs/api-reference#chat-create. */
const groqChatFields = new Set(['model', 'messages', 'citation_options', 'compound_custom', 'disable_tool_validation', 'documents', 'frequency_penalty', 'function_call', 'functions', 'include_reasoning', 'logit_bias', 'logprobs', 'max_completion_tokens', 'max_tokens', 'metadata', 'n', 'parallel_tool_calls', 'presence_penalty', 'reasoning_effort', 'reasoning_format', 'response_format', 'search_settings', 'seed', 'service_tier', 'stop', 'store', 'stream', 'stream_options', 'temperature', 'tool_choice', 'tools', 'top_logprobs', 'top_p', 'user']);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startOpenAISimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const flavor = options.flavor ?? 'openai';
  const prefix = options.prefix ?? '/v1';
  const models = options.models ?? defaultModels;
  const requests: RecordedRequest[] = [];
  const abortWaiters: (() => void)[] = [];
  let completionCounter = 0;
  const injectedFaults: number[] = [];
  let speechHold: { firstBytes: number; released: Promise<void> } | null = null;
  let uploaded = 0;

  const faults = createFaultScript();
  const keys = options.apiKey === undefined ? [] : Array.isArray(options.apiKey) ? options.apiKey : [options.apiKey];

  function authorized(request: IncomingMessage): boolean {
    if (keys.length === 0) return true;
    if (flavor === 'azure') return keys.some((key) => request.headers['api-key'] === key);
    return keys.some((key) => request.headers.authorization === `Bearer ${key}`);
  }

  function route(path: string): { endpoint: string; deployment?: string } | null {
    if (flavor === 'azure') {
      const match = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/.exec(path);
      if (match) return { endpoint: match[2] ?? '', deployment: decodeURIComponent(match[1] ?? '') };
      if (path === '/openai/models') return { endpoint: 'models' };
      return null;
    }
    if (!path.startsWith(`${prefix}/`)) return null;
    return { endpoint: path.slice(prefix.length + 1) };
  }

  const filesApi = createFilesSimulator(flavor === 'azure' ? '/openai' : prefix, options.filesDir);
  const server: Server = createSimulatorServer(handle, (response, message) => openAIError(response, 500, message, 'server_error', null));

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://simulator');
    if (url.pathname === `${prefix}/audio/transcriptions` && request.method === 'POST') {
      requests.push({ method: 'POST', path: url.pathname, query: url.searchParams, headers: request.headers, body: undefined, aborted: false });
      return transcription(request, response);
    }
    if (/\/(files|batches)(\/|$)/.test(url.pathname)) {
      requests.push({ method: request.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: request.headers, body: undefined, aborted: false });
      if (!authorized(request) || (flavor === 'azure' && !url.searchParams.get('api-version'))) {
        request.resume();
        openAIError(response, 401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
        return;
      }
      if (await filesApi.handle(request, response, url.pathname)) return;
    }
    const { body, invalid } = await readRequestJson(request);
    if (invalid) {
      openAIError(response, 400, 'We could not parse the JSON body of your request.', 'invalid_request_error', null);
      return;
    }
    const recorded: RecordedRequest = { method: request.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: request.headers, body, aborted: false };
    requests.push(recorded);
    response.on('close', () => {
      if (!response.writableFinished) {
        recorded.aborted = true;
        for (const waiter of abortWaiters.splice(0)) waiter();
      }
    });
    const fault = injectedFaults.shift();
    if (fault !== undefined) {
      openAIError(response, fault, `Simulated HTTP ${fault}`, fault >= 500 ? 'server_error' : 'invalid_request_error', null, fault === 503 ? { 'retry-after': '0' } : {});
      return;
    }
    const target = route(url.pathname);
    if (!target) {
      openAIError(response, 404, `Invalid URL (${request.method} ${url.pathname})`, 'invalid_request_error', null);
      return;
    }
    if (flavor === 'azure' && !url.searchParams.get('api-version')) {
      sendJson(response, 404, { error: { code: '404', message: 'Resource not found' } });
      return;
    }
    if (!authorized(request)) {
      openAIError(response, 401, 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', 'invalid_api_key');
      return;
    }
    if (target.endpoint === 'models' && request.method === 'GET') {
      if (options.modelsDelayMs) await new Promise((resolve) => setTimeout(resolve, options.modelsDelayMs));
      sendJson(response, 200, { object: 'list', data: models.map((id) => ({ id, object: 'model', created: 1715367049, owned_by: 'system' })) });
      return;
    }
    if (request.method !== 'POST' || !body) {
      openAIError(response, 405, 'Method not allowed', 'invalid_request_error', null);
      return;
    }
    const model = target.deployment ?? String(body.model ?? '');
    if (flavor === 'mistral') {
      const allowed = new Set(['model', 'messages', 'temperature', 'top_p', 'max_tokens', 'stream', 'stop', 'random_seed', 'response_format', 'tools', 'tool_choice', 'presence_penalty', 'frequency_penalty', 'n', 'safe_prompt', 'input', 'encoding_format', 'parallel_tool_calls', 'prediction']);
      const extra = Object.keys(body).filter((key) => !allowed.has(key));
      if (extra.length > 0) {
        sendJson(response, 422, { object: 'error', message: { detail: [{ type: 'extra_forbidden', loc: ['body', extra[0]], msg: 'Extra inputs are not permitted' }] }, type: 'invalid_request_error', param: null, code: null });
        return;
      }
    }
    if (target.endpoint === 'chat/completions' && refusesParameters(flavor, model, body, response)) return;
    const step = faults.take(model);
    if (step !== undefined && (await playFault(step, target.endpoint, model, response))) return;
    if (model.startsWith('no-such-')) {
      // https://platform.openai.com/docs/guides/error-codes: an unknown model is a 404 with code model_not_found.
      openAIError(response, 404, `The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found');
      return;
    }
    if (options.answerDelayMs) await sleep(options.answerDelayMs);
    if (await scenario(model, response)) return;
    if (target.endpoint === 'chat/completions') return chat(model, body, response);
    if (target.endpoint === 'embeddings') return embeddings(model, body, response);
    if (target.endpoint === 'responses' && options.responsesApi !== false) return simulateResponses(flavor, model, body, response);
    if (target.endpoint === 'audio/speech') return speech(body, response);
    openAIError(response, 404, `Invalid URL (POST ${url.pathname})`, 'invalid_request_error', null);
  }

  async function scenario(model: string, response: ServerResponse): Promise<boolean> {
    if (model === 'sim-rate-limited') {
      openAIError(response, 429, 'Rate limit reached for gpt-4o-mini in organization org-sim on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.', 'requests', 'rate_limit_exceeded', {
        'retry-after': '20',
        'x-ratelimit-limit-requests': '3',
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '20s',
      });
      return true;
    }
    if (model === 'sim-server-error') {
      openAIError(response, 500, 'The server had an error while processing your request. Sorry about that!', 'server_error', null);
      return true;
    }
    if (model === 'sim-overloaded') {
      openAIError(response, 503, 'The engine is currently overloaded, please try again later.', 'server_error', 'overloaded', { 'retry-after': '3' });
      return true;
    }
    if (model === 'sim-bad-request') {
      sendJson(response, 400, { error: { message: "Invalid value for 'temperature': must be between 0 and 2.", type: 'invalid_request_error', param: 'temperature', code: 'invalid_value' } });
      return true;
    }
    if (model === 'sim-garbage') {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<html>not json</html>');
      return true;
    }
    const slow = /^sim-slow-(\d+)$/.exec(model);
    if (slow) await sleep(Number(slow[1]));
    return false;
  }

  async function chat(model: string, body: Json, response: ServerResponse): Promise<void> {
    completionCounter += 1;
    const id = `chatcmpl-sim${completionCounter.toString().padStart(6, '0')}`;
    const created = 1_731_000_000 + completionCounter;
    const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
    const lastUser = [...messages].reverse().find((message) => message.role === 'user');
    const tools = Array.isArray(body.tools) ? (body.tools as Json[]) : [];
    const lastIsTool = messages.at(-1)?.role === 'tool';
    const toolNames = tools.map((tool) => String((tool.function as Json | undefined)?.name ?? ''));
    const scripted = scriptedToolCall(messageText(lastUser?.content), toolNames);
    const firstTool = scripted ? { name: scripted.name } : (tools[0]?.function as Json | undefined);
    const wantsTool = firstTool !== undefined && body.tool_choice !== 'none' && !lastIsTool;
    const reply = lastIsTool
      ? `Tool said: ${messageText(messages.at(-1)?.content)}`
      : model === 'sim-verbatim'
        ? messageText(lastUser?.content)
        : `Hello from ${flavor}: ${messageText(lastUser?.content)}`;
    const pieces = reply.split(/(?<= )/);
    const argumentsText = scripted ? JSON.stringify(scripted.input) : '{"location":"Paris"}';
    const toolArguments = [argumentsText.slice(0, 11), argumentsText.slice(11)];
    const usage = {
      prompt_tokens: promptTokens(messages),
      completion_tokens: wantsTool ? 7 : pieces.length,
      total_tokens: 0,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const finishReason = wantsTool ? 'tool_calls' : 'stop';
    const toolCall = { id: `call_sim${completionCounter}`, type: 'function', function: { name: String(firstTool?.name ?? ''), arguments: toolArguments.join('') } };

    if (body.stream !== true) {
      const message: Json = { role: 'assistant', content: wantsTool ? null : reply, refusal: null, annotations: [] };
      if (wantsTool) message.tool_calls = [toolCall];
      sendJson(response, 200, { id, object: 'chat.completion', created, model, choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }], usage, service_tier: 'default', system_fingerprint: 'fp_sim' }, { 'x-request-id': `req_${id}`, 'x-ratelimit-remaining-requests': '99' });
      return;
    }
    const includeUsage = (body.stream_options as Json | undefined)?.include_usage === true;
    const usageAlways = flavor === 'mistral' || flavor === 'zai';
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': `req_${id}` });
    const base = (delta: Json, finish: string | null): Json => {
      const chunk: Json = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_sim', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
      if (includeUsage) chunk.usage = null;
      return chunk;
    };
    const write = async (chunk: Json) => {
      response.write(`data: ${JSON.stringify(chunk)}\n\n`);
      if (options.chunkDelayMs) await sleep(options.chunkDelayMs);
    };
    await write(base({ role: 'assistant', content: wantsTool ? null : '', refusal: null }, null));
    if (model === 'sim-hang-stream') {
      await write(base({ content: 'partial' }, null));
      await new Promise<void>((resolve) => response.once('close', () => resolve()));
      return;
    }
    if (wantsTool) {
      await write(base({ tool_calls: [{ index: 0, id: toolCall.id, type: 'function', function: { name: toolCall.function.name, arguments: '' } }] }, null));
      for (const piece of toolArguments) await write(base({ tool_calls: [{ index: 0, function: { arguments: piece } }] }, null));
    } else {
      for (const piece of pieces) await write(base({ content: piece }, null));
    }
    const last = base({}, finishReason);
    if (usageAlways) last.usage = usage;
    if (flavor === 'groq') last.x_groq = { id: `req_${id}`, usage: { queue_time: 0.01, ...usage } };
    await write(last);
    if (includeUsage) {
      await write({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_sim', choices: [], usage });
    }
    response.write('data: [DONE]\n\n');
    response.end();
  }

  /** Deterministic "audio": the input text's bytes repeated to 64 bytes per character, in 16 KiB chunks. */
  async function speech(body: Json, response: ServerResponse): Promise<void> {
    const input = String(body.input ?? '');
    const total = Math.max(1, input.length) * 64;
    const hold = speechHold;
    speechHold = null;
    response.writeHead(200, { 'content-type': 'audio/mpeg', 'transfer-encoding': 'chunked' });
    const pattern = Buffer.from(input || ' ');
    let sent = 0;
    let held = false;
    while (sent < total) {
      if (hold && !held && sent >= hold.firstBytes) {
        held = true;
        await hold.released;
      }
      const size = Math.min(16 * 1024, total - sent, hold && !held ? hold.firstBytes - sent : Number.POSITIVE_INFINITY);
      const chunk = Buffer.alloc(size);
      for (let index = 0; index < size; index++) chunk[index] = pattern[(sent + index) % pattern.length] as number;
      sent += size;
      if (!response.write(chunk)) await new Promise((resolve) => response.once('drain', resolve));
    }
    response.end();
  }

  async function transcription(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!authorized(request)) {
      request.resume();
      openAIError(response, 401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
      return;
    }
    let fileBytes = 0;
    let model = '';
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: request.headers });
    } catch {
      request.resume();
      openAIError(response, 400, 'Invalid multipart body', 'invalid_request_error', null);
      return;
    }
    parser.on('field', (name, value) => {
      if (name === 'model') model = value;
    });
    parser.on('file', (_name, file) => {
      file.on('data', (chunk: Buffer) => {
        fileBytes += chunk.byteLength;
        uploaded += chunk.byteLength;
      });
    });
    await new Promise<void>((resolve, reject) => {
      parser.on('close', resolve);
      parser.on('error', reject);
      request.pipe(parser);
    });
    if (!model) {
      openAIError(response, 400, "you must provide a model parameter", 'invalid_request_error', null);
      return;
    }
    sendJson(response, 200, { text: `Heard ${fileBytes} bytes with ${model}.` });
  }

  function embeddings(model: string, body: Json, response: ServerResponse): void {
    const inputs = Array.isArray(body.input) ? (body.input as unknown[]) : [body.input];
    const dimensions = typeof body.dimensions === 'number' ? body.dimensions : 8;
    let tokens = 0;
    const data = inputs.map((input, index) => {
      const text = typeof input === 'string' ? input : JSON.stringify(input);
      tokens += Math.max(1, countTokens(text));
      const vector = model.startsWith('sim-semantic')
        ? semanticEmbedding(text)
        : Array.from({ length: dimensions }, (_unused, position) => Number(((text.length + position + 1) / 100).toFixed(6)));
      const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
      return { object: 'embedding', index, embedding };
    });
    sendJson(response, 200, { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
  }

  const listening = await listenSimulator(server, requests, abortWaiters);
  const url = listening.url;
  return {
    url,
    baseUrl: flavor === 'azure' ? url : `${url}${prefix}`,
    requests,
    waitForAbort: listening.waitForAbort,
    async close() {
      await listening.close();
      filesApi.close();
    },
    filesApi,
    script: faults.script,
    injectFaults(statuses) {
      injectedFaults.push(...statuses);
    },
    uploadedBytes: () => uploaded,
    holdNextSpeech(firstBytes) {
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      speechHold = { firstBytes, released };
      return { release };
    },
  };
}
