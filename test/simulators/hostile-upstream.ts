/**
 * A hostile upstream speaking the OpenAI wire format, one fault per model name, for the gateway's
 * robustness tests. The shapes it imitates follow the OpenAI API reference:
 * - Chat completion object: https://platform.openai.com/docs/api-reference/chat/object
 * - Chat completion chunk and the stream framing (SSE `data: {...}` events, then `data: [DONE]`):
 *   https://platform.openai.com/docs/api-reference/chat/streaming
 * - Errors, in bodies and as an event inside a stream (`{"error":{"message","type","param","code"}}`):
 *   https://platform.openai.com/docs/guides/error-codes
 * - Usage object (prompt_tokens, completion_tokens, total_tokens): https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage
 * - Models list: https://platform.openai.com/docs/api-reference/models/list
 *
 * Faults, chosen by the request's model:
 * - `fault-error-event`: a stream that sends one content chunk, then `data: {"error":{"message":"boom",...}}`,
 *   and ends the response there (no `[DONE]`), as OpenAI does when a stream fails.
 * - `fault-no-newline`: a 200 stream whose first line never ends: `data: {"choices":...` then `a`s forever.
 * - `fault-huge-json`: a 200 JSON body of `hugeBytes` (chunked, no content-length), valid JSON if read whole.
 * - `fault-huge-error`: a 500 JSON error body of `hugeBytes` (chunked).
 * - `fault-drip`: headers at once, then the (valid) body one byte every `dripIntervalMs`; SSE when streaming.
 * - `fault-redirect`: `302 Found` with a Location header, streaming or not.
 * - `fault-malformed-not-json`, `fault-malformed-null`, `fault-malformed-array`, `fault-malformed-number`: a
 *   stream whose second event is `{not json`, `null`, `[1,2]` or `42`.
 * - `fault-negative-usage`: a normal answer whose usage has negative and absurd token counts.
 * - `fault-echo-key`: 401 whose message echoes the whole key the gateway sent (`Incorrect API key provided: sk-...`).
 * Any other model answers normally (`Hello from hostile: <last user text>`), so tests can check the
 * gateway still serves after each fault.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createSimulatorServer, listenSimulator, readRequestJson } from './simulator-server.ts';

type Json = Record<string, unknown>;

export const hostileModels = [
  'gpt-4o-mini',
  'fault-error-event',
  'fault-no-newline',
  'fault-huge-json',
  'fault-huge-error',
  'fault-drip',
  'fault-redirect',
  'fault-malformed-not-json',
  'fault-malformed-null',
  'fault-malformed-array',
  'fault-malformed-number',
  'fault-negative-usage',
  'fault-echo-key',
];

/** Token counts of `fault-negative-usage`: negative, beyond any context window, and not a safe integer. */
export const hostileUsage = { prompt_tokens: -5, completion_tokens: 1e300, total_tokens: -1e15 };

export interface HostileRequest {
  path: string;
  model: string;
  stream: boolean;
  authorization: string | undefined;
  /** Bytes of response body written so far. */
  bytesSent: number;
  /** True once the gateway closed the connection before the response was complete. */
  aborted: boolean;
  /** True once the response was complete (or the fault gave up at its byte cap). */
  finished: boolean;
}

export interface HostileUpstreamOptions {
  /** Body size of the huge faults and the cap of the never-ending line; default 300 MB. */
  hugeBytes?: number;
  /** Milliseconds between two bytes of `fault-drip`; default 200. */
  dripIntervalMs?: number;
  /** Answer the models list as `fault-echo-key` answers a chat call (401 echoing the key); default false. */
  echoKeyOnModels?: boolean;
}

export interface HostileUpstream {
  url: string;
  baseUrl: string;
  requests: HostileRequest[];
  /** The last request for `model`. */
  last(model: string): HostileRequest | undefined;
  close(): Promise<void>;
}

const piece = Buffer.alloc(64 * 1024, 'a');

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

function chunk(id: string, model: string, delta: Json, finish: string | null = null): Json {
  return {
    id,
    object: 'chat.completion.chunk',
    created: 1_731_000_000,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  };
}

function lastUserText(body: Json): string {
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
  const last = [...messages].reverse().find((message) => message.role === 'user');
  return typeof last?.content === 'string' ? last.content : '';
}

export async function startHostileUpstream(options: HostileUpstreamOptions = {}): Promise<HostileUpstream> {
  const hugeBytes = options.hugeBytes ?? 300 * 1024 * 1024;
  const dripIntervalMs = options.dripIntervalMs ?? 200;
  const requests: HostileRequest[] = [];
  let counter = 0;

  function echoKey(request: IncomingMessage, response: ServerResponse): void {
    const key = (request.headers.authorization ?? '').replace(/^Bearer /, '');
    sendJson(response, 401, {
      error: {
        message: `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    });
  }

  const server: Server = createSimulatorServer(handle, (response, message) =>
    sendJson(response, 500, { error: { message, type: 'server_error', param: null, code: null } }),
  );

  /** Writes `text`, counting its bytes; resolves once the socket can take more (or is gone). */
  function write(response: ServerResponse, recorded: HostileRequest, data: string | Buffer): Promise<void> {
    recorded.bytesSent += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    if (response.write(data) || response.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        response.off('drain', done);
        response.off('close', done);
        resolve();
      };
      response.on('drain', done);
      response.on('close', done);
    });
  }

  /** Writes `prefix`, then `a`s until `hugeBytes` or the client leaves, then `suffix` (if still there). */
  async function writeHuge(response: ServerResponse, recorded: HostileRequest, prefix: string, suffix: string): Promise<void> {
    await write(response, recorded, prefix);
    for (let sent = 0; sent < hugeBytes && !response.destroyed; sent += piece.length) await write(response, recorded, piece);
    if (!response.destroyed) {
      recorded.finished = true;
      response.end(suffix);
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://hostile');
    const { body } = await readRequestJson(request);
    const model = typeof body?.model === 'string' ? body.model : '';
    const recorded: HostileRequest = {
      path: url.pathname,
      model,
      stream: body?.stream === true,
      authorization: request.headers.authorization,
      bytesSent: 0,
      aborted: false,
      finished: false,
    };
    requests.push(recorded);
    response.on('close', () => {
      if (!response.writableFinished && !recorded.finished) recorded.aborted = true;
    });
    if (url.pathname === '/v1/models' && request.method === 'GET' && options.echoKeyOnModels) {
      echoKey(request, response);
      return;
    }
    if (url.pathname === '/v1/models' && request.method === 'GET') {
      sendJson(response, 200, {
        object: 'list',
        data: hostileModels.map((id) => ({ id, object: 'model', created: 1715367049, owned_by: 'hostile' })),
      });
      return;
    }
    if (url.pathname !== '/v1/chat/completions' || request.method !== 'POST' || !body) {
      sendJson(response, 404, {
        error: { message: `Invalid URL (${request.method} ${url.pathname})`, type: 'invalid_request_error', param: null, code: null },
      });
      return;
    }
    counter += 1;
    const id = `chatcmpl-hostile${counter}`;
    const stream = recorded.stream;
    const sseHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

    switch (model) {
      case 'fault-error-event': {
        response.writeHead(200, sseHeaders);
        await write(response, recorded, `data: ${JSON.stringify(chunk(id, model, { role: 'assistant', content: 'partial' }))}\n\n`);
        recorded.finished = true;
        response.end(`data: ${JSON.stringify({ error: { message: 'boom', type: 'server_error', param: null, code: null } })}\n\n`);
        return;
      }
      case 'fault-no-newline': {
        response.writeHead(200, sseHeaders);
        return writeHuge(response, recorded, 'data: {"choices":[{"index":0,"delta":{"content":"', '"}}]}\n\n');
      }
      case 'fault-huge-json': {
        response.writeHead(200, { 'content-type': 'application/json' });
        const prefix = `{"id":"${id}","object":"chat.completion","created":1731000000,"model":"${model}","choices":[{"index":0,"message":{"role":"assistant","content":"`;
        return writeHuge(response, recorded, prefix, '"},"logprobs":null,"finish_reason":"stop"}]}');
      }
      case 'fault-huge-error': {
        response.writeHead(500, { 'content-type': 'application/json' });
        return writeHuge(response, recorded, '{"error":{"message":"', '","type":"server_error","param":null,"code":null}}');
      }
      case 'fault-drip': {
        const text = stream
          ? `data: ${JSON.stringify(chunk(id, model, { role: 'assistant', content: 'drip' }))}\n\ndata: [DONE]\n\n`
          : JSON.stringify({
              id,
              object: 'chat.completion',
              created: 1_731_000_000,
              model,
              choices: [{ index: 0, message: { role: 'assistant', content: 'drip' }, logprobs: null, finish_reason: 'stop' }],
            });
        response.writeHead(200, stream ? sseHeaders : { 'content-type': 'application/json' });
        for (const character of text) {
          if (response.destroyed) return;
          await write(response, recorded, character);
          await new Promise((resolve) => setTimeout(resolve, dripIntervalMs));
        }
        recorded.finished = true;
        response.end();
        return;
      }
      case 'fault-redirect': {
        const text = 'Found. Redirecting to https://elsewhere.invalid/v1/chat/completions';
        response.writeHead(302, {
          location: 'https://elsewhere.invalid/v1/chat/completions',
          'content-type': 'text/plain',
          'content-length': String(text.length),
        });
        recorded.finished = true;
        response.end(text);
        return;
      }
      case 'fault-malformed-not-json':
      case 'fault-malformed-null':
      case 'fault-malformed-array':
      case 'fault-malformed-number': {
        const malformed = {
          'fault-malformed-not-json': '{not json',
          'fault-malformed-null': 'null',
          'fault-malformed-array': '[1,2]',
          'fault-malformed-number': '42',
        }[model];
        response.writeHead(200, sseHeaders);
        await write(response, recorded, `data: ${JSON.stringify(chunk(id, model, { role: 'assistant', content: '' }))}\n\n`);
        await write(response, recorded, `data: ${malformed}\n\n`);
        await write(response, recorded, `data: ${JSON.stringify(chunk(id, model, {}, 'stop'))}\n\ndata: [DONE]\n\n`);
        recorded.finished = true;
        response.end();
        return;
      }
      case 'fault-echo-key': {
        echoKey(request, response);
        recorded.finished = true;
        return;
      }
      default:
        break;
    }
    // A normal answer; `fault-negative-usage` only changes the token counts.
    const content = `Hello from hostile: ${lastUserText(body)}`;
    const usage = model === 'fault-negative-usage' ? hostileUsage : { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 };
    recorded.finished = true;
    if (!stream) {
      sendJson(response, 200, {
        id,
        object: 'chat.completion',
        created: 1_731_000_000,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage,
      });
      return;
    }
    response.writeHead(200, sseHeaders);
    const events = [
      chunk(id, model, { role: 'assistant', content: '' }),
      chunk(id, model, { content }),
      chunk(id, model, {}, 'stop'),
      { id, object: 'chat.completion.chunk', created: 1_731_000_000, model, choices: [], usage },
    ];
    for (const event of events) await write(response, recorded, `data: ${JSON.stringify(event)}\n\n`);
    response.end('data: [DONE]\n\n');
  }

  const listening = await listenSimulator(server, requests, []);
  return {
    url: listening.url,
    baseUrl: `${listening.url}/v1`,
    requests,
    last: (model) => requests.findLast((recorded) => recorded.model === model),
    close: listening.close,
  };
}
