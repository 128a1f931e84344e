/** Bad input and upstream failures: every error is OpenAI-shaped with the right status, never a crash or a hang. */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallOutcome } from '../src/core/outcome.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

let simulator: Simulator;
let running: RunningGateway;
let closedPort: number;
const outcomes: CallOutcome[] = [];
const key = 'mg-errors-key';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${running.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body,
  });
}

async function expectError(response: Response, status: number, code: string): Promise<{ message: string; type: string; code: string; param: string | null }> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/json');
  expect(response.headers.get('x-request-id')).toBeTruthy();
  const body = (await response.json()) as { error: { message: string; type: string; code: string; param: string | null } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error;
}

beforeAll(async () => {
  simulator = await startOpenAISimulator({ apiKey: 'sk-upstream' });
  closedPort = await freePort();
  running = await startGateway({
    MODELGATE_MASTER_KEY: key,
    OPENAI_API_KEY: 'sk-upstream',
    OPENAI_BASE_URL: simulator.baseUrl,
    OPENAI_DEAD_API_KEY: 'sk-dead',
    OPENAI_DEAD_BASE_URL: `http://127.0.0.1:${closedPort}/v1`,
    BODY_SIZE_LIMIT: '2KB',
    UPSTREAM_HEADERS_TIMEOUT_MS: '400',
    UPSTREAM_TIMEOUT_MS: '400',
  });
  running.gateway.bus.subscribe((outcome) => outcomes.push(outcome));
});

afterAll(async () => {
  await running?.close();
  await simulator?.close();
});

const chat = (model: string, extra: Record<string, unknown> = {}) => JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });

describe('bad input', () => {
  it('rejects malformed JSON with 400', async () => {
    const error = await expectError(await post('/v1/chat/completions', '{"model": "gpt-4o-mini", '), 400, 'invalid_json');
    expect(error.type).toBe('invalid_request_error');
  });

  it('rejects a body that is not an object', async () => {
    await expectError(await post('/v1/chat/completions', '[1,2]'), 400, 'invalid_body');
    await expectError(await post('/v1/chat/completions', ''), 400, 'missing_body');
  });

  it('rejects a missing model and missing messages with the param named', async () => {
    const missingModel = await expectError(await post('/v1/chat/completions', JSON.stringify({ messages: [{ role: 'user', content: 'x' }] })), 400, 'missing_required_parameter');
    expect(missingModel.param).toBe('model');
    const missingMessages = await expectError(await post('/v1/chat/completions', JSON.stringify({ model: 'gpt-4o-mini' })), 400, 'missing_required_parameter');
    expect(missingMessages.param).toBe('messages');
    const missingInput = await expectError(await post('/v1/embeddings', JSON.stringify({ model: 'text-embedding-3-small' })), 400, 'missing_required_parameter');
    expect(missingInput.param).toBe('input');
  });

  it('answers 404 for an unknown model and an unknown endpoint', async () => {
    const unknown = await expectError(await post('/v1/chat/completions', chat('no-such-model')), 404, 'model_not_found');
    expect(unknown.message).toContain('no-such-model');
    await expectError(await post('/v1/nope', '{}'), 404, 'unknown_endpoint');
  });

  it('answers 413 for a body over BODY_SIZE_LIMIT', async () => {
    const error = await expectError(await post('/v1/chat/completions', chat('gpt-4o-mini', { padding: 'x'.repeat(4096) })), 413, 'request_too_large');
    expect(error.message).toContain('2048');
  });

  it('requires the master key', async () => {
    await expectError(await post('/v1/chat/completions', chat('gpt-4o-mini'), { authorization: '' }), 401, 'missing_api_key');
    await expectError(await post('/v1/chat/completions', chat('gpt-4o-mini'), { authorization: 'Bearer wrong' }), 401, 'invalid_api_key');
    const viaHeader = await fetch(`${running.url}/v1/models`, { headers: { 'x-api-key': key } });
    expect(viaHeader.status).toBe(200);
    const health = await fetch(`${running.url}/health`);
    expect(health.status).toBe(200);
  });

  it('keeps a sane incoming X-Request-ID and replaces an unsafe one', async () => {
    const kept = await post('/v1/chat/completions', chat('gpt-4o-mini'), { 'x-request-id': 'client-id-123' });
    expect(kept.headers.get('x-request-id')).toBe('client-id-123');
    const replaced = await post('/v1/chat/completions', chat('gpt-4o-mini'), { 'x-request-id': 'bad id\twith spaces' });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('upstream failures', () => {
  it('maps an upstream 429 with Retry-After and rate-limit headers', async () => {
    const response = await post('/v1/chat/completions', chat('openai/sim-rate-limited'));
    const error = await expectError(response, 429, 'rate_limit_exceeded');
    expect(error.message).toContain('Rate limit reached');
    expect(response.headers.get('retry-after')).toBe('20');
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('0');
  });

  it('maps an upstream 500 to 502 with the upstream message', async () => {
    const error = await expectError(await post('/v1/chat/completions', chat('openai/sim-server-error')), 502, 'upstream_500');
    expect(error.message).toContain('The server had an error');
  });

  it('keeps an upstream 400 with its message and param', async () => {
    const error = await expectError(await post('/v1/chat/completions', chat('openai/sim-bad-request')), 400, 'invalid_value');
    expect(error.param).toBe('temperature');
    expect(error.message).toContain("Invalid value for 'temperature'");
  });

  it('keeps 503 and its Retry-After', async () => {
    const response = await post('/v1/chat/completions', chat('openai/sim-overloaded'));
    await expectError(response, 503, 'overloaded');
    expect(response.headers.get('retry-after')).toBe('3');
  });

  it('answers 502 when the upstream body is not JSON', async () => {
    await expectError(await post('/v1/chat/completions', chat('openai/sim-garbage')), 502, 'upstream_invalid_response');
  });

  it('answers 504 when the upstream is too slow', async () => {
    const error = await expectError(await post('/v1/chat/completions', chat('openai/sim-slow-3000')), 504, 'upstream_timeout');
    expect(error.type).toBe('timeout_error');
  });

  it('answers 502 when the upstream cannot be reached', async () => {
    const error = await expectError(await post('/v1/chat/completions', chat('openai-dead/gpt-4o-mini')), 502, 'upstream_unreachable');
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).not.toContain('sk-dead');
  });

  it('ends a stream that stalls with an error event', async () => {
    const response = await post('/v1/chat/completions', chat('openai/sim-hang-stream', { stream: true }));
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain('"content":"partial"');
    expect(text).toMatch(/data: \{"error":\{"message":"Upstream provider 'openai' timed out"/);
  });

  it('emits one outcome per call, with the failure', async () => {
    const response = await post('/v1/chat/completions', chat('openai/sim-server-error'));
    const requestId = response.headers.get('x-request-id');
    await expect.poll(() => outcomes.filter((outcome) => outcome.requestId === requestId).length).toBe(1);
    expect(outcomes.find((outcome) => outcome.requestId === requestId)).toMatchObject({
      status: 502,
      provider: 'openai',
      model: 'sim-server-error',
      error: { code: 'upstream_500' },
    });
  });
});

describe('client disconnect', () => {
  it('aborts the upstream request when the client disconnects mid-stream', async () => {
    // Default (10 minute) upstream timeouts: only the client's disconnect can end this upstream request.
    const upstream = await startOpenAISimulator({ apiKey: 'sk-upstream' });
    const gateway = await startGateway({ OPENAI_API_KEY: 'sk-upstream', OPENAI_BASE_URL: upstream.baseUrl });
    const seen: CallOutcome[] = [];
    gateway.gateway.bus.subscribe((outcome) => seen.push(outcome));
    try {
      const controller = new AbortController();
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: chat('openai/sim-hang-stream', { stream: true }),
        signal: controller.signal,
      });
      const reader = response.body?.getReader();
      const first = await reader?.read();
      expect(new TextDecoder().decode(first?.value)).toContain('data: ');
      const upstreamCall = () => upstream.requests.find((request) => request.path === '/v1/chat/completions');
      expect(upstreamCall()?.aborted).toBe(false);
      controller.abort();
      await expect.poll(() => upstreamCall()?.aborted, { timeout: 5000 }).toBe(true);
      await expect.poll(() => seen[0]?.status).toBe(499);
      expect(seen[0]?.error?.code).toBe('client_closed_request');
    } finally {
      await gateway.close();
      await upstream.close();
    }
  });
});
