/**
 * An instant OpenAI-compatible upstream for the benchmark: it answers without any model work, so
 * whatever latency a gateway shows on top of it is the gateway's own.
 *
 * - GET  /v1/models            model list (https://platform.openai.com/docs/api-reference/models/list)
 * - POST /v1/chat/completions  `chat.completion` JSON, or with `"stream": true` an SSE stream of
 *   `chat.completion.chunk` events ending in `data: [DONE]`, with a usage chunk when
 *   `stream_options.include_usage` is set (https://platform.openai.com/docs/api-reference/chat/streaming)
 * - GET  /health               200
 * - model `gpt-4o-mini-slow` (the streams workload, bench/streams.ts): a stream of `max_tokens` content chunks
 *   (default 40), one every `slowIntervalMs` (100 ms), as a real model streams tokens.
 *
 * Run alone: `node bench/mock-upstream.ts --port=8001 [--chunks=20] [--slow-interval=100]`; prints `{"port":N}` when ready.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const benchModel = 'gpt-4o-mini';
export const benchSlowModel = 'gpt-4o-mini-slow';

export interface MockUpstreamOptions {
  port?: number;
  host?: string;
  /** Content chunks per streamed answer (plus a role chunk, a finish chunk and an optional usage chunk). */
  streamChunks?: number;
  /** Time between two content chunks of `benchSlowModel` streams. */
  slowIntervalMs?: number;
}

export interface MockUpstream {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

const created = 1_764_000_000;
const usage = { prompt_tokens: 12, completion_tokens: 20, total_tokens: 32 };

function completionBody(): string {
  return JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created,
    model: benchModel,
    system_fingerprint: 'fp_bench',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'This is a benchmark answer from an instant upstream.', refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage,
  });
}

function chunkFrame(delta: Record<string, unknown>, finishReason: string | null): string {
  const chunk = {
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    created,
    model: benchModel,
    system_fingerprint: 'fp_bench',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/** The frames of one streamed answer, built once: the upstream must cost (almost) nothing per request. */
function streamFrames(contentChunks: number, includeUsage: boolean): string[] {
  const frames = [chunkFrame({ role: 'assistant', content: '' }, null)];
  for (let index = 0; index < contentChunks; index++) frames.push(chunkFrame({ content: `token${index} ` }, null));
  frames.push(chunkFrame({}, 'stop'));
  if (includeUsage) {
    frames.push(
      `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model: benchModel, choices: [], usage })}\n\n`,
    );
  }
  frames.push('data: [DONE]\n\n');
  return frames;
}

const modelsBody = JSON.stringify({
  object: 'list',
  data: [
    { id: benchModel, object: 'model', created, owned_by: 'bench' },
    { id: 'gpt-4o', object: 'model', created, owned_by: 'bench' },
    { id: benchSlowModel, object: 'model', created, owned_by: 'bench' },
  ],
});

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const pieces: Buffer[] = [];
    request.on('data', (piece: Buffer) => pieces.push(piece));
    request.on('end', () => resolve(Buffer.concat(pieces).toString('utf8')));
    request.on('error', reject);
  });
}

function sendJson(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/** A slow stream: the role chunk at once, then one content chunk every `intervalMs`, then finish and [DONE]. */
function streamSlowly(request: IncomingMessage, response: ServerResponse, chunks: number, intervalMs: number): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  response.write(chunkFrame({ role: 'assistant', content: '' }, null));
  let sent = 0;
  const timer = setInterval(() => {
    if (sent < chunks) {
      response.write(chunkFrame({ content: `token${sent} ` }, null));
      sent++;
      return;
    }
    clearInterval(timer);
    response.end(`${chunkFrame({}, 'stop')}data: [DONE]\n\n`);
  }, intervalMs);
  request.on('close', () => clearInterval(timer));
  response.on('close', () => clearInterval(timer));
}

export function createMockUpstreamHandler(streamChunks: number, slowIntervalMs = 100) {
  const completion = completionBody();
  const framesWithUsage = streamFrames(streamChunks, true);
  const framesWithoutUsage = streamFrames(streamChunks, false);
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' && (path === '/health' || path === '/')) {
      sendJson(response, 200, '{"status":"ok"}');
      return;
    }
    if (request.method === 'GET' && path === '/v1/models') {
      sendJson(response, 200, modelsBody);
      return;
    }
    if (request.method === 'POST' && path === '/v1/chat/completions') {
      let body: { model?: unknown; max_tokens?: unknown; stream?: unknown; stream_options?: { include_usage?: unknown } };
      try {
        body = JSON.parse(await readBody(request)) as typeof body;
      } catch {
        sendJson(response, 400, '{"error":{"message":"invalid JSON","type":"invalid_request_error","code":null,"param":null}}');
        return;
      }
      if (body.stream !== true) {
        sendJson(response, 200, completion);
        return;
      }
      if (body.model === benchSlowModel) {
        streamSlowly(request, response, typeof body.max_tokens === 'number' ? body.max_tokens : 40, slowIntervalMs);
        return;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      for (const frame of body.stream_options?.include_usage === true ? framesWithUsage : framesWithoutUsage) {
        response.write(frame);
      }
      response.end();
      return;
    }
    sendJson(response, 404, '{"error":{"message":"not found","type":"invalid_request_error","code":null,"param":null}}');
  };
}

export async function startMockUpstream(options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const handler = createMockUpstreamHandler(options.streamChunks ?? 20, options.slowIntervalMs);
  const server = createServer({ keepAliveTimeout: 60_000 }, (request, response) => {
    handler(request, response).catch(() => response.destroy());
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `--name=value` arguments of a bench script. */
export function readArguments(argv: string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const argument of argv) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(argument);
    if (match?.[1]) found.set(match[1], match[2] ?? 'true');
  }
  return found;
}

if (import.meta.main) {
  const args = readArguments(process.argv.slice(2));
  const upstream = await startMockUpstream({
    port: Number(args.get('port') ?? 0),
    streamChunks: Number(args.get('chunks') ?? 20),
    slowIntervalMs: Number(args.get('slow-interval') ?? 100),
  });
  process.stdout.write(`${JSON.stringify({ port: upstream.port })}\n`);
  const stop = () => void upstream.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
