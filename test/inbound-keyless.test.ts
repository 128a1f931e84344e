/**
 * Keyless mode (no MODELGATE_MASTER_KEY, loopback only): requests whose Host is not a loopback name or
 * address (DNS rebinding) and cross-site browser requests (foreign or `null` Origin, Sec-Fetch-Site:
 * cross-site, form or text bodies with an Origin) are refused with 403 before the body is read; local
 * tools (no Origin) and pages on loopback origins sending JSON go through.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostnameOf, isLoopbackName } from '../src/http/keyless-guard.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

let backend: StorageBackend;
let simulator: Simulator;
let running: RunningGateway;
let port: number;

const chatBody = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });

/** node:http, because fetch may not set Host. */
function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: Record<string, unknown>; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port, method, path, headers, setHost: headers.host === undefined }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, json: JSON.parse(text) as Record<string, unknown> }));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

async function expectRefused(answer: Promise<{ status: number; json: Record<string, unknown> }>, code: string, shape: 'openai' | 'anthropic' = 'openai'): Promise<void> {
  const { status, json } = await answer;
  expect(status).toBe(403);
  if (shape === 'openai') expect(json).toMatchObject({ error: { type: 'permission_error', code } });
  else expect(json).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
}

beforeAll(async () => {
  backend = createBackend('sqlite');
  simulator = await startOpenAISimulator({ apiKey: 'sk-keyless-upstream' });
  running = await startGateway({ ...backend.env, OPENAI_API_KEY: 'sk-keyless-upstream', OPENAI_BASE_URL: simulator.baseUrl });
  port = Number(new URL(running.url).port);
});

afterAll(async () => {
  await running?.close();
  await simulator?.close();
  await backend?.cleanup();
});

describe('keyless mode', () => {
  it('tells loopback names and addresses apart', () => {
    for (const host of ['localhost', 'LOCALHOST', 'app.localhost', '127.0.0.1', '127.1.2.3', '[::1]', '::1']) expect(isLoopbackName(host)).toBe(true);
    for (const host of ['evil.example', 'localhost.evil.example', '127.0.0.1.nip.io', '10.0.0.1', '0.0.0.0', '[::ffff:8.8.8.8]', '']) expect(isLoopbackName(host)).toBe(false);
    expect(hostnameOf('[::1]:8080')).toBe('[::1]');
    expect(hostnameOf('localhost:8080')).toBe('localhost');
  });

  it('serves local tools: loopback Host names and addresses, no Origin', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'localhost']) {
      const answer = await send('POST', '/v1/chat/completions', { host, 'content-type': 'application/json' }, chatBody);
      expect(answer.status).toBe(200);
    }
    // curl -d sends form encoding without an Origin: still served as JSON.
    expect((await send('POST', '/v1/chat/completions', { 'content-type': 'application/x-www-form-urlencoded' }, chatBody)).status).toBe(200);
  });

  it('refuses a Host that is not loopback (DNS rebinding), on every path', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, '10.1.2.3', 'localhost.evil.example']) {
      await expectRefused(send('POST', '/v1/chat/completions', { host, 'content-type': 'application/json' }, chatBody), 'host_not_allowed');
      await expectRefused(send('GET', '/v1/models', { host }), 'host_not_allowed');
      await expectRefused(send('GET', '/health', { host }), 'host_not_allowed');
      await expectRefused(send('GET', '/no/such/path', { host }), 'host_not_allowed');
    }
    await expectRefused(send('POST', '/v1/messages', { host: 'evil.example', 'content-type': 'application/json' }, '{}'), 'host_not_allowed', 'anthropic');
  });

  it('refuses cross-site browser requests: a foreign or null Origin, Sec-Fetch-Site: cross-site', async () => {
    for (const origin of ['https://evil.example', 'http://127.0.0.1.evil.example', 'null', 'file://']) {
      await expectRefused(send('POST', '/v1/chat/completions', { origin, 'content-type': 'application/json' }, chatBody), 'cross_site_request');
      await expectRefused(send('OPTIONS', '/v1/chat/completions', { origin, 'access-control-request-method': 'POST' }), 'cross_site_request');
    }
    await expectRefused(send('GET', '/v1/models', { 'sec-fetch-site': 'cross-site' }), 'cross_site_request');
    await expectRefused(send('POST', '/v1/messages', { origin: 'https://evil.example', 'content-type': 'application/json' }, '{}'), 'cross_site_request', 'anthropic');
  });

  it('refuses text/plain, multipart and form bodies that come with an Origin (no CORS preflight), even a loopback one', async () => {
    for (const contentType of ['text/plain', 'text/plain;charset=UTF-8', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded']) {
      for (const origin of ['https://evil.example', `http://localhost:${port}`]) {
        await expectRefused(send('POST', '/v1/chat/completions', { origin, 'content-type': contentType }, chatBody), 'cross_site_request');
      }
    }
  });

  it('serves a page on a loopback origin that sends JSON', async () => {
    const answer = await send('POST', '/v1/chat/completions', { origin: `http://localhost:${port}`, 'content-type': 'application/json' }, chatBody);
    expect(answer.status).toBe(200);
  });
});

describe('with a master key', () => {
  it('accepts any Host and Origin (the key is what protects it)', async () => {
    const keyed = await startGateway({ ...backend.env, MODELGATE_MASTER_KEY: 'keyless-test-master', OPENAI_API_KEY: 'sk-keyless-upstream', OPENAI_BASE_URL: simulator.baseUrl, SQLITE_PATH: `${backend.env.SQLITE_PATH ?? ''}-keyed` });
    try {
      const keyedPort = Number(new URL(keyed.url).port);
      const answer = await new Promise<number>((resolve, reject) => {
        const outgoing = httpRequest(
          { host: '127.0.0.1', port: keyedPort, method: 'GET', path: '/v1/models', setHost: false, headers: { host: 'gateway.example', origin: 'https://app.example', authorization: 'Bearer keyless-test-master' } },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        );
        outgoing.on('error', reject);
        outgoing.end();
      });
      expect(answer).toBe(200);
    } finally {
      await keyed.close();
    }
  });
});
