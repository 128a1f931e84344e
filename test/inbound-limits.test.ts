/**
 * Limits on what clients send: MAX_JSON_DEPTH (a deep body is a 400 in the caller's shape, checked
 * without recursion), REQUEST_TIMEOUT_MS (a body or headers dripped byte by byte are cut at the
 * deadline with a JSON 408), MAX_CONNECTIONS, and /health answering while 2,000 slow or idle
 * connections are open.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonDepthExceeds } from '../src/http/json-depth.ts';
import { startGatewayProcess } from './helpers/gateway-process.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const key = 'inbound-limits-key';
let simulator: Simulator;
let backend: StorageBackend;
let running: RunningGateway;
let port: number;

function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${running.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers }, body });
}

function nested(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the server sends until it closes, and when it closed (ms after `since`). */
function untilClosed(socket: Socket, since: number): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (data) => {
      text += data.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve({ text, closedAfterMs: performance.now() - since }));
  });
}

beforeAll(async () => {
  simulator = await startOpenAISimulator({ apiKey: 'sk-limits-upstream' });
  backend = createBackend('sqlite');
  running = await startGateway({
    ...backend.env,
    MODELGATE_MASTER_KEY: key,
    OPENAI_API_KEY: 'sk-limits-upstream',
    OPENAI_BASE_URL: simulator.baseUrl,
    REQUEST_TIMEOUT_MS: '1500',
  });
  port = Number(new URL(running.url).port);
});

afterAll(async () => {
  await running?.close();
  await simulator?.close();
  await backend?.cleanup();
});

describe('MAX_JSON_DEPTH', () => {
  it('measures depth without parsing, skipping brackets inside strings and escaped quotes', () => {
    expect(jsonDepthExceeds(nested(64), 64)).toBe(false);
    expect(jsonDepthExceeds(nested(65), 64)).toBe(true);
    expect(jsonDepthExceeds(JSON.stringify({ text: '[[[[[[[[[[{{{{{{{{' }), 3)).toBe(false);
    expect(jsonDepthExceeds(JSON.stringify({ text: 'a "quoted" [[[[ \\', more: [[[[1]]]] }), 4)).toBe(true);
    expect(jsonDepthExceeds(JSON.stringify({ text: 'a \\"[[[[[[', more: [[1]] }), 3)).toBe(false);
    expect(jsonDepthExceeds(nested(1_000_000), 64)).toBe(true);
  });

  it('answers 10,000-deep and 1,000,000-deep bodies with a 400 invalid_request_error, OpenAI-shaped on /v1', async () => {
    for (const depth of [10_000, 1_000_000]) {
      for (const path of depth === 10_000 ? ['/v1/chat/completions', '/v1/responses', '/v1/embeddings'] : ['/v1/chat/completions']) {
        const response = await post(path, nested(depth));
        expect(response.status).toBe(400);
        expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'json_too_deep' } });
      }
      const inField = await post('/v1/chat/completions', `{"model":"gpt-4o-mini","messages":[{"role":"user","content":${nested(depth).replace('[]', '"x"')}}]}`);
      expect(inField.status).toBe(400);
    }
  });

  it('answers a deep body on /v1/messages with an Anthropic-shaped 400', async () => {
    const response = await post('/v1/messages', `{"model":"x","messages":[{"role":"user","content":${nested(10_000)}}]}`, { 'x-api-key': key });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('MAX_JSON_DEPTH') } });
  });

  it('accepts a body within the limit', async () => {
    const metadata = nested(40).replace('[]', '{"a":"b"}');
    const response = await post('/v1/chat/completions', JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `deep ${metadata}` }] }));
    expect(response.status).toBe(200);
  });
});

describe('REQUEST_TIMEOUT_MS', () => {
  it('cuts a body sent at one byte per second at the deadline with a JSON 408', async () => {
    const socket = await open();
    const startedAt = performance.now();
    const closed = untilClosed(socket, startedAt);
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`);
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write('[');
    }, 1_000);
    const { text, closedAfterMs } = await closed;
    clearInterval(drip);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { code: 'request_timeout', type: 'invalid_request_error' } });
    // Cut near the 1.5 s deadline (checked once a second at most), long before the 100 s the body would take.
    expect(closedAfterMs).toBeGreaterThan(1_000);
    expect(closedAfterMs).toBeLessThan(10_000);
  });

  it('cuts headers sent byte by byte, and an idle connection that sends nothing', async () => {
    const dripping = await open();
    const startedAt = performance.now();
    const dripClosed = untilClosed(dripping, startedAt);
    const header = `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(100)}`;
    let sent = 0;
    const drip = setInterval(() => {
      if (!dripping.destroyed && sent < header.length) dripping.write(header[sent++] ?? '');
    }, 200);
    const idle = await open();
    const idleClosed = untilClosed(idle, startedAt);
    const [dripped, idled] = await Promise.all([dripClosed, idleClosed]);
    clearInterval(drip);
    expect(dripped.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(dripped.closedAfterMs).toBeLessThan(10_000);
    expect(idled.closedAfterMs).toBeLessThan(10_000);
  });
});

describe('slow and idle connections (a separate gateway process)', () => {
  it('keeps /health answering while 2,000 slow or idle connections are open, and closes them all at the deadline', async () => {
    const child = startGatewayProcess({ MODELGATE_MASTER_KEY: key, REQUEST_TIMEOUT_MS: '6000' });
    const sockets: Socket[] = [];
    let closedByServer = 0;
    try {
      const url = await child.ready(90_000);
      const childPort = Number(new URL(url).port);
      const openTo = () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect(childPort, '127.0.0.1');
          socket.on('error', () => {});
          socket.once('connect', () => {
            // Read whatever the server answers (a 408) and count the ends it gives.
            socket.resume();
            socket.once('end', () => closedByServer++);
            resolve(socket);
          });
          socket.once('close', () => reject(new Error('closed before connecting')));
        });
      for (let batch = 0; batch < 20; batch++) {
        const opened = await Promise.all(Array.from({ length: 100 }, () => openTo()));
        for (const [index, socket] of opened.entries()) {
          // Half idle, half with a body that never arrives.
          if (index % 2 === 0) socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Length: 1000\r\n\r\n[`);
        }
        sockets.push(...opened);
      }
      expect(sockets.length).toBe(2_000);
      const startedAt = performance.now();
      const health = await fetch(`${url}/health`, { headers: { connection: 'close' } });
      const healthMs = performance.now() - startedAt;
      expect(health.status).toBe(200);
      // A liveness bound for a loaded machine, not a performance figure: without deadlines /health failed here.
      expect(healthMs).toBeLessThan(5_000);
      // The deadline closes every one of them.
      await expect.poll(() => closedByServer, { timeout: 30_000, interval: 250 }).toBe(2_000);
      expect((await fetch(`${url}/health`, { headers: { connection: 'close' } })).status).toBe(200);
    } finally {
      for (const socket of sockets) socket.destroy();
      await child.stop();
    }
  }, 180_000);
});

describe('MAX_CONNECTIONS', () => {
  it('closes connections past the cap at once and accepts again once some close', async () => {
    const cappedBackend = createBackend('sqlite');
    const capped = await startGateway({ ...cappedBackend.env, MODELGATE_MASTER_KEY: key, MAX_CONNECTIONS: '10' });
    const cappedPort = Number(new URL(capped.url).port);
    const sockets: Socket[] = [];
    const openTo = () =>
      new Promise<Socket>((resolve, reject) => {
        const socket = connect(cappedPort, '127.0.0.1');
        socket.on('error', () => {});
        socket.once('connect', () => resolve(socket));
        socket.once('close', () => reject(new Error('closed')));
      });
    try {
      for (let index = 0; index < 10; index++) sockets.push(await openTo());
      const extra = connect(cappedPort, '127.0.0.1');
      extra.on('error', () => {});
      const closed = untilClosed(extra, performance.now());
      extra.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      const { text, closedAfterMs } = await closed;
      expect(text).toBe('');
      expect(closedAfterMs).toBeLessThan(2_000);
      for (const socket of sockets.splice(0)) socket.destroy();
      await expect.poll(async () => (await fetch(`${capped.url}/health`).then((response) => response.status, () => 0)), { timeout: 5_000 }).toBe(200);
    } finally {
      for (const socket of sockets) socket.destroy();
      await capped.close();
      await cappedBackend.cleanup();
    }
  });
});
