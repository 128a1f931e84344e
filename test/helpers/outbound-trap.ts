/**
 * An HTTP proxy on 127.0.0.1 that forwards nothing: it records every request and CONNECT tunnel asked of it
 * and refuses it (502). The agent CLI tests point HTTPS_PROXY/HTTP_PROXY at it (NO_PROXY keeps loopback
 * direct), so a CLI that tried to reach a real provider, telemetry or an update server is seen here, fails
 * at once, and the test can assert that nothing was attempted.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OutboundTrap {
  url: string;
  /** `CONNECT host:port` or `GET http://...` for every attempt, in order. */
  attempts: string[];
  close(): Promise<void>;
}

export async function startOutboundTrap(): Promise<OutboundTrap> {
  const attempts: string[] = [];
  const server = createServer((request, response) => {
    attempts.push(`${request.method} ${request.url}`);
    request.resume();
    response.writeHead(502, { 'content-type': 'text/plain' });
    response.end('outbound traffic is refused in tests');
  });
  server.on('connect', (request, socket) => {
    attempts.push(`CONNECT ${request.url}`);
    socket.on('error', () => {});
    socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    attempts,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
