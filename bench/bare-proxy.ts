/**
 * The floor for a Node gateway: a minimal reverse proxy on node:http with an undici keep-alive
 * pool to the upstream. It parses nothing and streams bodies both ways, so it measures what Node's
 * HTTP stack alone costs. Any Node gateway can at best approach it.
 *
 * Run alone: `node bench/bare-proxy.ts --port=8002 --upstream=http://127.0.0.1:8001`;
 * prints `{"port":N}` when ready.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
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

export async function startBareProxy(options: { upstream: string; port?: number; host?: string }): Promise<BareProxy> {
  const pool = new Pool(options.upstream, { connections: 128, keepAliveTimeout: 60_000, pipelining: 1 });
  const server = createServer({ keepAliveTimeout: 60_000 }, async (request, response) => {
    try {
      const upstream = await pool.request({
        path: request.url ?? '/',
        method: request.method as 'GET' | 'POST',
        headers: forwardHeaders(request.headers),
        body: request.method === 'GET' || request.method === 'HEAD' ? null : request,
      });
      const headers: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(upstream.headers)) {
        if (value !== undefined && !hopByHop.has(name)) headers[name] = value;
      }
      response.writeHead(upstream.statusCode, headers);
      await pipeline(upstream.body, response);
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
