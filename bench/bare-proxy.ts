/**
 * The floor for a Node gateway: a minimal reverse proxy on node:http with an undici keep-alive
 * pool to the upstream. It parses nothing: the request body is collected and sent in one piece, the
 * response likewise, event streams chunk by chunk as they arrive. It measures what Node's HTTP stack
 * alone costs; any Node gateway can at best approach it. (Collecting small bodies costs less CPU than
 * piping them as streams, so this is the faster of the two designs.)
 *
 * Run alone: `node bench/bare-proxy.ts --port=8002 --upstream=http://127.0.0.1:8001`;
 * prints `{"port":N}` when ready.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import { readArguments } from './mock-upstream.ts';

export interface BareProxy {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);

function forwardHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const forwarded: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined && !hopByHop.has(name)) forwarded[name] = value;
  }
  return forwarded;
}

function readBody(request: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const pieces: Buffer[] = [];
    request.on('data', (piece: Buffer) => pieces.push(piece));
    request.on('end', () => resolve(pieces.length === 0 ? null : pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces)));
    request.on('error', reject);
  });
}

/** Relays the upstream body: collected and sent in one piece, or chunk by chunk for event streams. */
function relayBody(body: Readable, response: ServerResponse, streaming: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const pieces: Buffer[] = [];
    body.on('data', (piece: Buffer) => {
      if (!streaming) {
        pieces.push(piece);
        return;
      }
      if (!response.write(piece)) {
        body.pause();
        response.once('drain', () => body.resume());
      }
    });
    body.on('end', () => {
      response.end(streaming || pieces.length === 0 ? undefined : pieces.length === 1 ? pieces[0] : Buffer.concat(pieces));
      resolve();
    });
    body.on('error', reject);
    response.on('close', () => {
      if (!response.writableFinished) body.destroy();
    });
  });
}

export async function startBareProxy(options: { upstream: string; port?: number; host?: string }): Promise<BareProxy> {
  // Unlimited connections: the streams workload holds thousands of upstream streams open at once.
  const pool = new Pool(options.upstream, { connections: null, keepAliveTimeout: 60_000, pipelining: 1 });
  const server = createServer({ keepAliveTimeout: 60_000 }, async (request, response) => {
    try {
      const upstream = await pool.request({
        path: request.url ?? '/',
        method: request.method as 'GET' | 'POST',
        headers: forwardHeaders(request.headers),
        body: await readBody(request),
      });
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(upstream.headers)) {
        if (value !== undefined && !hopByHop.has(name)) headers[name] = value;
      }
      response.writeHead(upstream.statusCode, headers);
      const contentType = upstream.headers['content-type'];
      await relayBody(upstream.body, response, typeof contentType === 'string' && contentType.startsWith('text/event-stream'));
    } catch {
      if (!response.headersSent) {
        response.writeHead(502, { 'content-type': 'application/json' });
        response.end('{"error":{"message":"bad gateway","type":"upstream_error","code":null,"param":null}}');
      } else {
        response.destroy();
      }
    }
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://${host}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.close();
    },
  };
}

if (import.meta.main) {
  const args = readArguments(process.argv.slice(2));
  const upstream = args.get('upstream');
  if (!upstream) {
    process.stderr.write('usage: node bench/bare-proxy.ts --upstream=http://127.0.0.1:8001 [--port=0]\n');
    process.exit(2);
  }
  const proxy = await startBareProxy({ upstream, port: Number(args.get('port') ?? 0) });
  process.stdout.write(`${JSON.stringify({ port: proxy.port })}\n`);
  const stop = () => void proxy.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
