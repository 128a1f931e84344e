/**
 * A provider simulator speaking Anthropic's Messages API wire format on 127.0.0.1.
 *
 * Formats follow Anthropic's API reference:
 * - Messages: https://docs.anthropic.com/en/api/messages — POST /v1/messages with the key in `x-api-key` (or
 *   `Authorization: Bearer`, which the SDK majors for API version 2026-10-21 send) and an `anthropic-version` header; `model`, `max_tokens` and `messages` are required; unknown top-level fields are
 *   rejected ("<field>: Extra inputs are not permitted"). Response: {"id":"msg_...","type":"message",
 *   "role":"assistant","model","content":[text|tool_use|thinking blocks],"stop_reason","stop_sequence","usage":
 *   {"input_tokens","cache_creation_input_tokens","cache_read_input_tokens","output_tokens"}}. Stop reasons:
 *   end_turn, max_tokens, stop_sequence, tool_use (https://docs.anthropic.com/en/api/messages#response-stop-reason).
 * - Streaming: https://docs.anthropic.com/en/docs/build-with-claude/streaming — SSE with named events:
 *   `event: message_start` (message with empty content and initial usage), then per block
 *   `content_block_start`, `content_block_delta` (text_delta, input_json_delta with `partial_json`,
 *   thinking_delta, signature_delta), `content_block_stop`; `ping` events anywhere; `message_delta`
 *   ({"delta":{"stop_reason","stop_sequence"},"usage":{"output_tokens"}}, output_tokens cumulative);
 *   `message_stop`. Errors inside a stream arrive as `event: error` with
 *   {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}.
 * - Extended thinking: https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking — thinking blocks
 *   carry a `signature` that must be sent back unchanged; `budget_tokens` >= 1024 and < `max_tokens`.
 *   Adaptive thinking (`thinking: {type: "adaptive", display?}` with `output_config.effort`) exists from Claude
 *   4.6; models before refuse it ("adaptive thinking is not supported on this model"), Opus 4.7 and later
 *   refuse `enabled` with 400 "\"thinking.type.enabled\" is not supported for this model. Use
 *   \"thinking.type.adaptive\" and \"output_config.effort\" to control thinking behavior." (as quoted from the
 *   API in https://github.com/anomalyco/opencode/issues/22863) and default `display` to "omitted" (empty
 *   thinking text, signature kept). `sim-adaptive-only` behaves like those.
 * - Prompt caching: https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching — `cache_control:
 *   {"type":"ephemeral"}` on tools, system and message blocks; the cached prefix is reported as
 *   cache_creation_input_tokens on the first call and cache_read_input_tokens afterwards; `input_tokens` counts
 *   only the tokens after the last breakpoint.
 * - Errors: https://docs.anthropic.com/en/api/errors — {"type":"error","error":{"type","message"},"request_id"};
 *   400 invalid_request_error, 401 authentication_error, 429 rate_limit_error, 500 api_error,
 *   529 overloaded_error. 429 carries `retry-after` and `anthropic-ratelimit-*` headers
 *   (https://docs.anthropic.com/en/api/rate-limits#response-headers).
 * - Versions: https://platform.claude.com/docs/en/api/versioning — with `anthropic-version: 2026-10-21` the
 *   `temperature`, `top_p` and `top_k` parameters are removed (400) and `document` blocks in assistant messages
 *   are refused; `2023-06-01` keeps them.
 * - Model-specific sampling rules: Claude 4.5 models and Opus 4.x refuse temperature and top_p together with
 *   400 "temperature and top_p cannot both be specified for this model. Please use only one." (as quoted from
 *   the API in https://github.com/browseros-ai/BrowserOS/issues/208); `sim-no-temperature` answers
 *   "`temperature` is deprecated for this model." as newer models do.
 * - Models: https://docs.anthropic.com/en/api/models-list — GET /v1/models?limit&after_id →
 *   {"data":[{"type":"model","id","display_name","created_at"}],"has_more","first_id","last_id"}.
 *
 * Behaviour by model name: `sim-rate-limited` (429), `sim-overloaded` (529), `sim-server-error` (500),
 * `sim-overloaded-stream` (200 stream that ends with an `error` event), `sim-overloaded-stream-start`
 * (200 stream whose first event is an `error`), `sim-hang-stream` (message_start and one text delta, then nothing
 * until the client goes away). Otherwise the reply echoes the last user text; with tools
 * (and tool_choice not none) it answers with a short text block and a tool_use block (every tool when the
 * user text contains "all tools" and parallel use is allowed; the tool and input a `[[sim-tool NAME {...}]]`
 * directive in the user text names, see scripted-tool-call.ts); after a tool_result it says what the tool said;
 * with thinking enabled it first emits a signed thinking block.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { adaptiveOnly, betasOf, simulatedSignature, validateMessagesRequest } from './anthropic-request-validation.ts';
import { createMessageBatchesSimulator, type MessageBatchesSimulator } from './anthropic-message-batches.ts';
import { scriptedToolCall } from './scripted-tool-call.ts';
import { createSimulatorServer, listenSimulator, readRequestJson } from './simulator-server.ts';

type Json = Record<string, unknown>;

export interface AnthropicRecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Json | undefined;
  aborted: boolean;
}

export interface AnthropicSimulatorOptions {
  /** Expected `x-api-key`; requests without it get 401. */
  apiKey?: string;
  models?: string[];
  /** Largest page GET /v1/models returns whatever `limit` asks (Anthropic: default 20, at most 1000). */
  modelsPageSize?: number;
  /** Delay before a Message Batch runs (default 20 ms). */
  batchDelayMs?: number;
}

export interface AnthropicSimulator {
  url: string;
  /** Base URL to configure in the gateway (the API origin; paths start with /v1). */
  baseUrl: string;
  requests: AnthropicRecordedRequest[];
  close(): Promise<void>;
  /** Resolves once a request has been aborted by its client (the gateway). */
  waitForAbort(): Promise<void>;
  /** The Message Batches API (test/simulators/anthropic-message-batches.ts). */
  messageBatches: MessageBatchesSimulator;
}

const defaultModels = ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1'];

export function wordCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}


function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((block) => {
      const item = block as Json;
      if (item.type === 'text' && typeof item.text === 'string') return item.text;
      if (item.type === 'tool_result') return textOf(item.content);
      return '';
    })
    .filter(Boolean)
    .join(' ');
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

let requestCounter = 0;
function requestId(): string {
  requestCounter += 1;
  return `req_sim${requestCounter.toString().padStart(8, '0')}`;
}

function anthropicError(
  response: ServerResponse,
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  const id = requestId();
  send(response, status, { type: 'error', error: { type, message }, request_id: id }, { 'request-id': id, ...headers });
}

interface Block {
  type: string;
  [key: string]: unknown;
}

export async function startAnthropicSimulator(options: AnthropicSimulatorOptions = {}): Promise<AnthropicSimulator> {
  const models = options.models ?? defaultModels;
  const requests: AnthropicRecordedRequest[] = [];
  const cachedPrefixes = new Set<string>();
  const abortWaiters: (() => void)[] = [];
  let messageCounter = 0;

  let origin = '';
  const messageBatches = createMessageBatchesSimulator({
    origin: () => origin,
    apiKey: options.apiKey,
    ...(options.batchDelayMs === undefined ? {} : { processingDelayMs: options.batchDelayMs }),
    error: (response, status, type, message) => anthropicError(response, status, type, message),
  });
  const server: Server = createSimulatorServer(handle, (response, message) => anthropicError(response, 500, 'api_error', `Internal server error: ${message}`));

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://simulator');
    const { body, invalid } = await readRequestJson(request);
    if (invalid) {
      anthropicError(response, 400, 'invalid_request_error', 'There was an issue with the format of your request: Invalid JSON');
      return;
    }
    const recorded: AnthropicRecordedRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      body,
      aborted: false,
    };
    requests.push(recorded);
    response.on('close', () => {
      if (!response.writableFinished) {
        recorded.aborted = true;
        for (const waiter of abortWaiters.splice(0)) waiter();
      }
    });
    const presented = request.headers['x-api-key'] ?? request.headers.authorization?.replace(/^Bearer /, '');
    if (options.apiKey && presented !== options.apiKey) {
      anthropicError(response, 401, 'authentication_error', 'invalid x-api-key');
      return;
    }
    if (!request.headers['anthropic-version']) {
      anthropicError(response, 400, 'invalid_request_error', 'anthropic-version: header is required');
      return;
    }
    if (url.pathname === '/v1/models' && request.method === 'GET') return listModels(url, response);
    if (url.pathname.startsWith('/v1/messages/batches') && (await messageBatches.handle(request.method ?? 'GET', url.pathname, body, response))) return;
    if (url.pathname === '/v1/messages' && request.method === 'POST' && body)
      return messages(body, String(request.headers['anthropic-version']), betasOf(request.headers['anthropic-beta']), response);
    anthropicError(response, 404, 'not_found_error', 'Not found');
  }

  function listModels(url: URL, response: ServerResponse): void {
    const limit = Math.min(Number(url.searchParams.get('limit') ?? 20), options.modelsPageSize ?? 1000);
    const after = url.searchParams.get('after_id');
    const start = after ? models.indexOf(after) + 1 : 0;
    const page = models.slice(start, start + limit);
    send(
      response,
      200,
      {
        data: page.map((id, index) => ({
          type: 'model',
          id,
          display_name: id.replace(/-/g, ' '),
          created_at: `2025-0${(index % 9) + 1}-01T00:00:00Z`,
        })),
        has_more: start + limit < models.length,
        first_id: page[0] ?? null,
        last_id: page.at(-1) ?? null,
      },
      { 'request-id': requestId() },
    );
  }

  /** Tokens covered by cache breakpoints (tools, then system, then messages, in that order). */
  function cacheAccounting(body: Json, totalTokens: number): { read: number; write: number; input: number } {
    const sequence: { tokens: number; text: string; breakpoint: boolean }[] = [];
    for (const tool of (body.tools as Json[] | undefined) ?? []) {
      sequence.push({
        tokens: wordCount(String(tool.description ?? '')),
        text: JSON.stringify(tool),
        breakpoint: tool.cache_control !== undefined,
      });
    }
    const system = body.system;
    if (typeof system === 'string') sequence.push({ tokens: wordCount(system), text: system, breakpoint: false });
    else if (Array.isArray(system)) {
      for (const block of system as Json[])
        sequence.push({
          tokens: wordCount(String(block.text ?? '')),
          text: JSON.stringify(block),
          breakpoint: block.cache_control !== undefined,
        });
    }
    for (const message of body.messages as Json[]) {
      if (typeof message.content === 'string')
        sequence.push({ tokens: wordCount(message.content), text: message.content, breakpoint: false });
      else
        for (const block of (message.content as Json[] | undefined) ?? []) {
          sequence.push({ tokens: wordCount(textOf([block])), text: JSON.stringify(block), breakpoint: block.cache_control !== undefined });
        }
    }
    let lastBreakpoint = -1;
    sequence.forEach((entry, index) => {
      if (entry.breakpoint) lastBreakpoint = index;
    });
    if (lastBreakpoint < 0) return { read: 0, write: 0, input: totalTokens };
    const prefix = sequence.slice(0, lastBreakpoint + 1);
    const prefixTokens = prefix.reduce((sum, entry) => sum + entry.tokens, 0);
    const key = createHash('sha256')
      .update(String(body.model))
      .update(prefix.map((entry) => entry.text).join('\u0000'))
      .digest('hex');
    const input = Math.max(0, totalTokens - prefixTokens);
    if (cachedPrefixes.has(key)) return { read: prefixTokens, write: 0, input };
    cachedPrefixes.add(key);
    return { read: 0, write: prefixTokens, input };
  }

  function totalInputTokens(body: Json): number {
    let total = 0;
    const system = body.system;
    total += typeof system === 'string' ? wordCount(system) : wordCount(textOf(system));
    for (const tool of (body.tools as Json[] | undefined) ?? []) total += wordCount(String(tool.description ?? ''));
    for (const message of body.messages as Json[]) total += wordCount(textOf(message.content));
    return total;
  }

  async function messages(body: Json, version: string, betas: Set<string>, response: ServerResponse): Promise<void> {
    const model = String(body.model ?? '');
    if (model === 'sim-rate-limited') {
      anthropicError(
        response,
        429,
        'rate_limit_error',
        'This request would exceed the rate limit for your organization of 50 requests per minute.',
        {
          'retry-after': '17',
          'anthropic-ratelimit-requests-limit': '50',
          'anthropic-ratelimit-requests-remaining': '0',
          'anthropic-ratelimit-requests-reset': '2026-01-01T00:00:17Z',
        },
      );
      return;
    }
    if (model === 'sim-overloaded') return anthropicError(response, 529, 'overloaded_error', 'Overloaded');
    if (model === 'sim-server-error') return anthropicError(response, 500, 'api_error', 'Internal server error');
    const invalid = validateMessagesRequest(body, version, betas);
    if (invalid) return anthropicError(response, 400, 'invalid_request_error', invalid);

    messageCounter += 1;
    const id = `msg_sim${messageCounter.toString().padStart(6, '0')}`;
    const messageList = body.messages as Json[];
    const last = messageList.at(-1);
    const lastBlocks = Array.isArray(last?.content) ? (last?.content as Json[]) : [];
    const toolResult = last?.role === 'user' ? lastBlocks.find((block) => block.type === 'tool_result') : undefined;
    const lastUserText = textOf([...messageList].reverse().find((message) => message.role === 'user')?.content);
    const tools = (body.tools as Json[] | undefined) ?? [];
    const toolChoice = (body.tool_choice as Json | undefined) ?? { type: 'auto' };
    const blocks: Block[] = [];
    const thinking = body.thinking as Json | undefined;
    if (thinking?.type === 'enabled' || thinking?.type === 'adaptive') {
      const omitted = thinking.type === 'adaptive' && (thinking.display ?? (adaptiveOnly(model) ? 'omitted' : 'summarized')) === 'omitted';
      const thought = omitted ? '' : `Let me think about: ${lastUserText}`;
      blocks.push({ type: 'thinking', thinking: thought, signature: simulatedSignature(thought) });
    }
    let stopReason = 'end_turn';
    if (toolResult) {
      blocks.push({ type: 'text', text: `Tool said: ${textOf(toolResult.content)}` });
    } else if (tools.length > 0 && toolChoice.type !== 'none') {
      const forced = toolChoice.type === 'tool' ? tools.find((tool) => tool.name === toolChoice.name) : undefined;
      const scripted = forced ? undefined : scriptedToolCall(lastUserText, tools.map((tool) => String(tool.name)));
      const parallel = toolChoice.disable_parallel_tool_use !== true && lastUserText.includes('all tools');
      const chosen = forced ? [forced] : scripted ? [{ name: scripted.name }] : parallel ? tools : [tools[0] as Json];
      if (toolChoice.type === 'auto') blocks.push({ type: 'text', text: 'Let me check that.' });
      chosen.forEach((tool, index) => {
        const input = scripted?.input ?? { location: 'Paris' };
        blocks.push({ type: 'tool_use', id: `toolu_sim${messageCounter}_${index}`, name: String(tool.name), input });
      });
      stopReason = 'tool_use';
    } else {
      blocks.push({ type: 'text', text: `Hello from anthropic: ${lastUserText}` });
    }
    let stopSequence: string | null = null;
    const maxTokens = Number(body.max_tokens);
    for (const block of blocks) {
      if (block.type !== 'text') continue;
      const blockText = String(block.text);
      for (const sequence of (body.stop_sequences as string[] | undefined) ?? []) {
        const at = blockText.indexOf(sequence);
        if (at >= 0) {
          block.text = blockText.slice(0, at);
          stopReason = 'stop_sequence';
          stopSequence = sequence;
          break;
        }
      }
      const words = String(block.text).split(/(?<= )/);
      if (words.length > maxTokens) {
        block.text = words.slice(0, maxTokens).join('');
        stopReason = 'max_tokens';
      }
    }
    let outputTokens = 0;
    for (const block of blocks) {
      if (block.type === 'text') outputTokens += wordCount(String(block.text));
      else if (block.type === 'thinking') outputTokens += wordCount(String(block.thinking));
      else outputTokens += 5;
    }
    const cache = cacheAccounting(body, totalInputTokens(body));
    const usage = {
      input_tokens: cache.input,
      cache_creation_input_tokens: cache.write,
      cache_read_input_tokens: cache.read,
      output_tokens: outputTokens,
      service_tier: 'standard',
    };
    const headers = {
      'request-id': requestId(),
      'anthropic-ratelimit-requests-limit': '50',
      'anthropic-ratelimit-requests-remaining': '49',
    };
    if (body.stream !== true) {
      send(
        response,
        200,
        { id, type: 'message', role: 'assistant', model, content: blocks, stop_reason: stopReason, stop_sequence: stopSequence, usage },
        headers,
      );
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers });
    const write = (event: string, data: Json) => {
      response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    // message_start carries the message shell with input usage (output_tokens starts at 1, as Anthropic's does).
    const messageStart = () =>
      write('message_start', {
        type: 'message_start',
        message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } },
      });
    if (model === 'sim-hang-stream') {
      messageStart();
      write('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
      write('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'partial' } });
      await new Promise<void>((resolve) => response.once('close', () => resolve()));
      return;
    }
    if (model === 'sim-overloaded-stream-start') {
      write('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
      response.end();
      return;
    }
    messageStart();
    for (let index = 0; index < blocks.length; index++) {
      const block = blocks[index] as Block;
      if (block.type === 'text') {
        write('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
        if (index === 0) write('ping', { type: 'ping' });
        for (const piece of String(block.text).split(/(?<= )/)) {
          if (piece) write('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
        }
      } else if (block.type === 'thinking') {
        write('content_block_start', {
          type: 'content_block_start',
          index,
          content_block: { type: 'thinking', thinking: '', signature: '' },
        });
        if (index === 0) write('ping', { type: 'ping' });
        for (const piece of String(block.thinking).split(/(?<= )/)) {
          if (piece)
            write('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: piece } });
        }
        write('content_block_delta', {
          type: 'content_block_delta',
          index,
          delta: { type: 'signature_delta', signature: block.signature },
        });
      } else if (block.type === 'tool_use') {
        write('content_block_start', {
          type: 'content_block_start',
          index,
          content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
        });
        const json = JSON.stringify(block.input);
        const middle = Math.floor(json.length / 2);
        for (const piece of ['', json.slice(0, middle), json.slice(middle)]) {
          write('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
        }
      }
      write('content_block_stop', { type: 'content_block_stop', index });
    }
    if (model === 'sim-overloaded-stream') {
      write('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
      response.end();
      return;
    }
    write('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: stopReason, stop_sequence: stopSequence },
      usage: { output_tokens: outputTokens },
    });
    write('message_stop', { type: 'message_stop' });
    response.end();
  }

  const listening = await listenSimulator(server, requests, abortWaiters);
  const url = listening.url;
  origin = url;
  return {
    url,
    messageBatches,
    baseUrl: url,
    requests,
    waitForAbort: listening.waitForAbort,
    close: listening.close,
  };
}
