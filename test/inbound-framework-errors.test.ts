/**
 * Every answer the process sends is JSON in the caller's shape with the right status, those of Node's
 * HTTP parser and of Fastify included: malformed requests, unknown methods, oversized headers, long or
 * badly encoded URLs, oversized bodies, prototype-named paths. Raw sockets, so nothing is tidied up by
 * a client library.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';

const key = 'framework-errors-key';
let backend: StorageBackend;
let running: RunningGateway;
let port: number;

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  json: Record<string, unknown>;
}

/** Sends raw bytes and reads one response (the server closes or sends a complete Content-Length body). */
function raw(bytes: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const finish = () => {
      const split = text.indexOf('\r\n\r\n');
      if (split < 0) {
        reject(new Error(`no complete answer: ${JSON.stringify(text.slice(0, 200))}`));
        return;
      }
      const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const match = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine);
      if (!match) {
        reject(new Error(`not an HTTP/1.1 status line: ${statusLine}`));
        return;
      }
      const body = text.slice(split + 4, split + 4 + Number(headers['content-length'] ?? text.length));
      try {
        resolve({ status: Number(match[1]), headers, json: JSON.parse(body) as Record<string, unknown> });
      } catch {
        reject(new Error(`not JSON: ${body.slice(0, 200)}`));
      }
      socket.destroy();
    };
    socket.on('data', (data) => {
      text += data.toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, split))?.[1];
      if (split >= 0 && length !== undefined && text.length >= split + 4 + Number(length)) finish();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (!socket.destroyed || text !== '') finish();
    });
    socket.setTimeout(15_000, () => socket.destroy(new Error('timeout')));
    socket.write(bytes);
  });
}

function expectOpenAI(answer: RawAnswer, status: number, code?: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toContain('application/json');
  expect(answer.json).toMatchObject({ error: { message: expect.any(String), type: expect.any(String), ...(code ? { code } : {}) } });
}

beforeAll(async () => {
  backend = createBackend('sqlite');
  running = await startGateway({ ...backend.env, MODELGATE_MASTER_KEY: key, BODY_SIZE_LIMIT: '4KB' });
  port = Number(new URL(running.url).port);
});

afterAll(async () => {
  await running?.close();
  await backend?.cleanup();
});

describe('errors below the routes', () => {
  it('answers a malformed request line or header with a JSON 400', async () => {
    expectOpenAI(await raw('GET / HTTP/9.9\r\nHost: x\r\n\r\n'), 400, 'invalid_http_request');
    expectOpenAI(await raw('\x01\x02\x03 garbage\r\n\r\n'), 405);
    expectOpenAI(await raw('GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'), 400, 'invalid_http_request');
    expectOpenAI(await raw('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'), 400, 'invalid_http_request');
    expectOpenAI(await raw('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'), 400, 'invalid_http_request');
    expectOpenAI(await raw('GET / HTTP/1.1\r\n\r\n'), 400);
  });

  it('answers an unknown method with a JSON 405, and a known one on a path without it with a JSON 404', async () => {
    expectOpenAI(await raw('FROB /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n'), 405, 'method_not_allowed');
    expectOpenAI(await raw(`PROPFIND /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n\r\n`), 404, 'unknown_endpoint');
    expectOpenAI(await raw(`PUT /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`), 404, 'unknown_endpoint');
  });

  it('answers headers over 16 KB with a JSON 431, and a long URL with 431 or 414', async () => {
    expectOpenAI(await raw(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), 431, 'headers_too_large');
    expectOpenAI(await raw(`GET /v1/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`), 431, 'headers_too_large');
    expectOpenAI(await raw(`GET /v1/responses/${'r'.repeat(500)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n\r\n`), 414, 'uri_too_long');
  });

  it('answers a badly percent-encoded URL with a JSON 400', async () => {
    expectOpenAI(await raw(`GET /v1/responses/%zz%E0%A4%A HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n\r\n`), 400);
  });

  it('answers a body over BODY_SIZE_LIMIT with 413 in the route shape, without waiting for the body', async () => {
    const head = (path: string, extra = '') => `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nx-api-key: ${key}\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n${extra}\r\n{"a":`;
    const chat = await raw(head('/v1/chat/completions'));
    expectOpenAI(chat, 413, 'request_too_large');
    expect(chat.headers.connection).toBe('close');
    const messages = await raw(head('/v1/messages'));
    expect(messages.status).toBe(413);
    expect(messages.json).toEqual({ type: 'error', error: { type: 'request_too_large', message: expect.stringContaining('BODY_SIZE_LIMIT') } });
  });

  it('answers prototype-named paths with 401 or 404, never 500', async () => {
    const paths = ['/swagger/constructor', '/constructor', '/__proto__', '/prototype', '/hasOwnProperty', '/v1/constructor', '/v1/__proto__/x', '/toString', '/admin/api/v1/__proto__', '/v1/models/constructor', '/v1/models/__proto__', '/p/constructor', '/p/__proto__/x', '/p/toString/v1/chat/completions', '/v1/responses/constructor'];
    for (const path of paths) {
      for (const authorization of ['', `Authorization: Bearer ${key}\r\n`]) {
        for (const method of ['GET', 'POST']) {
          const answer = await raw(`${method} ${path} HTTP/1.1\r\nHost: x\r\n${authorization}Content-Length: 2\r\nContent-Type: application/json\r\n\r\n{}`);
          expect([401, 404], `${method} ${path} ${authorization ? 'with' : 'without'} key: ${JSON.stringify(answer.json)}`).toContain(answer.status);
          expect(answer.headers['content-type']).toContain('application/json');
        }
      }
    }
  });

  it('keeps serving after all of it', async () => {
    const health = await fetch(`${running.url}/health`);
    expect(health.status).toBe(200);
  });
});
