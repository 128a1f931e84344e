/** HTTP plumbing shared by the provider simulators: server, JSON request bodies, listen, close, abort waits. */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type Json = Record<string, unknown>;

export interface RequestJson {
  text: string;
  /** Undefined for an empty body. */
  body: Json | undefined;
  /** True when the body is not JSON (the simulator answers in its provider's error format). */
  invalid: boolean;
}

export async function readRequestJson(request: IncomingMessage): Promise<RequestJson> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return { text, body: undefined, invalid: false };
  try {
    return { text, body: JSON.parse(text) as Json, invalid: false };
  } catch {
    return { text, body: undefined, invalid: true };
  }
}

/** A server whose handler failures answer with the provider's own 500 (or cut the connection mid-response). */
export function createSimulatorServer(
  handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
  internalError: (response: ServerResponse, message: string) => void,
): Server {
  return createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) internalError(response, String(error));
      else response.destroy();
    });
  });
}

export interface ListeningSimulator {
  url: string;
  /** Resolves once some recorded request has `aborted` set (now or later, via `abortWaiters`). */
  waitForAbort(): Promise<void>;
  close(): Promise<void>;
}

/** Listens on a free loopback port; the simulator calls and empties `abortWaiters` when it sees an abort. */
export async function listenSimulator(
  server: Server,
  requests: { aborted: boolean }[],
  abortWaiters: (() => void)[],
): Promise<ListeningSimulator> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    waitForAbort: () =>
      new Promise<void>((resolve) => {
        if (requests.some((recorded) => recorded.aborted)) resolve();
        else abortWaiters.push(resolve);
      }),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
