/**
 * The key is checked as soon as the headers arrive (Fastify onRequest), before any body is read or
 * parsed: a refused request never has its body read, and every 401 carries `x-should-retry: false`
 * (the OpenAI and Anthropic SDKs stop retrying on it) in the caller's API shape, for the master key and
 * for managed keys.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'inbound-auth-master-key';
let backend: StorageBackend;
let simulator: Simulator;
let running: RunningGateway;
let port: number;

const chatBody = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });

function request(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Response> {
  return fetch(`${running.url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body }) });
}

interface RawAnswer {
  head: string;
  body: string;
  /** ms from the first byte written to the server closing the connection. */
  closedAfterMs: number;
  /** Bytes the client managed to write before the server closed. */
  written: number;
}

/**
 * Declares a body of `declaredBytes` and writes it in 64 KB chunks as fast as the socket takes them,
 * until the server answers and closes. A server that read the body first would take it all.
 */
function sendLargeBody(path: string, declaredBytes: number, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const startedAt = performance.now();
    let received = '';
    let written = 0;
    let answered = false;
    const chunk = Buffer.alloc(64 * 1024, '[');
    const pump = () => {
      while (!answered && written < declaredBytes && !socket.destroyed) {
        const piece = chunk.subarray(0, Math.min(chunk.length, declaredBytes - written));
        written += piece.length;
        if (!socket.write(piece)) {
          socket.once('drain', pump);
          return;
        }
      }
    };
    socket.on('connect', () => {
      const lines = [`POST ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Content-Type: application/json', `Content-Length: ${declaredBytes}`];
      for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      pump();
    });
    socket.on('data', (data) => {
      received += data.toString('latin1');
      if (received.includes('\r\n\r\n')) answered = true;
    });
    socket.on('error', () => {}); // EPIPE / ECONNRESET once the server closes mid-body: expected
    socket.on('close', () => {
      const split = received.indexOf('\r\n\r\n');
      if (split < 0) {
        reject(new Error(`connection closed without an answer after ${written} bytes`));
        return;
      }
      resolve({ head: received.slice(0, split), body: received.slice(split + 4), closedAfterMs: performance.now() - startedAt, written });
    });
    socket.setTimeout(20_000, () => socket.destroy(new Error('no answer in 20 s')));
  });
}

async function expectRefused(response: Response, shape: 'openai' | 'anthropic' | 'google'): Promise<void> {
  expect(response.status).toBe(401);
  expect(response.headers.get('x-should-retry')).toBe('false');
  expect(response.headers.get('content-type')).toContain('application/json');
  const body = (await response.json()) as Record<string, unknown>;
  if (shape === 'openai') expect(body).toMatchObject({ error: { type: 'authentication_error', code: expect.any(String), message: expect.any(String) } });
  if (shape === 'anthropic') expect(body).toEqual({ type: 'error', error: { type: 'authentication_error', message: expect.any(String) } });
  if (shape === 'google') expect(body).toEqual({ error: { code: 401, status: 'UNAUTHENTICATED', message: expect.any(String) } });
}

beforeAll(async () => {
  backend = createBackend('sqlite');
  simulator = await startOpenAISimulator({ apiKey: 'sk-inbound-upstream' });
  running = await startGateway({
    ...backend.env,
    MODELGATE_MASTER_KEY: masterKey,
    OPENAI_API_KEY: 'sk-inbound-upstream',
    OPENAI_BASE_URL: simulator.baseUrl,
    ANTHROPIC_API_KEY: 'sk-ant-inbound',
    ANTHROPIC_BASE_URL: 'http://127.0.0.1:9/v1',
    GEMINI_API_KEY: 'gem-inbound',
    GEMINI_BASE_URL: 'http://127.0.0.1:9/v1beta',
    ENABLED_PASSTHROUGH_PROVIDERS: 'openai,anthropic,gemini',
  });
  port = Number(new URL(running.url).port);
});

afterAll(async () => {
  await running?.close();
  await simulator?.close();
  await backend?.cleanup();
});

describe('authentication before the body', () => {
  it('answers 401 with x-should-retry: false in the OpenAI, Anthropic and Google shapes, for every way of sending a wrong key', async () => {
    const wrong: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { 'x-api-key': 'wrong' }, { authorization: 'Bearer mg-unknown-managed-key' }];
    for (const headers of wrong) {
      await expectRefused(await request('POST', '/v1/chat/completions', headers, chatBody), 'openai');
      await expectRefused(await request('POST', '/v1/embeddings', headers, '{"model":"m","input":"x"}'), 'openai');
      await expectRefused(await request('POST', '/v1/responses', headers, '{}'), 'openai');
      await expectRefused(await request('GET', '/v1/models', headers), 'openai');
      await expectRefused(await request('POST', '/v1/messages', headers, '{}'), 'anthropic');
      await expectRefused(await request('POST', '/v1/messages/count_tokens', headers, '{}'), 'anthropic');
      await expectRefused(await request('POST', '/p/anthropic/v1/messages', headers, '{}'), 'anthropic');
      await expectRefused(await request('POST', '/p/gemini/v1beta/models/gemini-2.0-flash:generateContent', headers, '{}'), 'google');
      await expectRefused(await request('GET', '/admin/api/v1/keys', headers), 'openai');
    }
  });

  it('refuses a wrong key before parsing: an invalid JSON body without a key is 401, not 400', async () => {
    await expectRefused(await request('POST', '/v1/chat/completions', {}, '{not json'), 'openai');
    await expectRefused(await request('POST', '/v1/messages', {}, '[[[[[['), 'anthropic');
  });

  it('managed keys keep working, and a deactivated one gets 401 with x-should-retry: false', async () => {
    const created = await request('POST', '/admin/api/v1/keys', { authorization: `Bearer ${masterKey}` }, JSON.stringify({ name: 'inbound' }));
    expect(created.status).toBe(201);
    const { id, key } = (await created.json()) as { id: string; key: string };
    expect((await request('POST', '/v1/chat/completions', { authorization: `Bearer ${key}` }, chatBody)).status).toBe(200);
    expect((await request('POST', '/v1/chat/completions', { 'x-api-key': key }, chatBody)).status).toBe(200);
    const deactivated = await request('POST', `/admin/api/v1/keys/${id}/deactivate`, { authorization: `Bearer ${masterKey}` }, '{}');
    expect(deactivated.status).toBe(200);
    const refused = await request('POST', '/v1/chat/completions', { authorization: `Bearer ${key}` }, chatBody);
    expect(refused.headers.get('x-should-retry')).toBe('false');
    await expectRefused(refused, 'openai');
    await expectRefused(await request('POST', '/v1/messages', { 'x-api-key': key }, '{}'), 'anthropic');
    // The master key still authenticates, body parsed as before.
    expect((await request('POST', '/v1/chat/completions', { authorization: `Bearer ${masterKey}` }, chatBody)).status).toBe(200);
  });

  it('answers a 10 MB unauthenticated body with 401 and closes the connection without reading the body', async () => {
    const declared = 10 * 1024 * 1024;
    const answer = await sendLargeBody('/v1/chat/completions', declared);
    expect(answer.head).toMatch(/^HTTP\/1\.1 401 /);
    expect(answer.head.toLowerCase()).toContain('x-should-retry: false');
    expect(answer.head.toLowerCase()).toContain('connection: close');
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'missing_api_key' } });
    // The server closed before taking the whole body (a body read first would be taken to the end).
    expect(answer.written).toBeLessThan(declared);
  });

  it('keeps /health fast and memory bounded under 20 parallel 10 MB unauthenticated bodies', async () => {
    const rssBefore = process.memoryUsage().rss;
    const declared = 10 * 1024 * 1024;
    const answers = Promise.all(Array.from({ length: 20 }, () => sendLargeBody('/v1/messages', declared, { 'x-api-key': 'wrong' })));
    const healthStartedAt = performance.now();
    const health = await fetch(`${running.url}/health`);
    const healthMs = performance.now() - healthStartedAt;
    expect(health.status).toBe(200);
    for (const answer of await answers) {
      expect(answer.head).toMatch(/^HTTP\/1\.1 401 /);
      expect(JSON.parse(answer.body)).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
      expect(answer.written).toBeLessThan(declared);
    }
    // Liveness and memory bounds for a loaded machine, not performance figures: 200 MB of bodies are never held.
    expect(healthMs).toBeLessThan(10_000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(150 * 1024 * 1024);
  });
});
