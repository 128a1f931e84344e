/**
 * Passthrough hardening (issue 8): JSON bodies honour MAX_JSON_DEPTH like every route (a 400 in the
 * shape of the provider's own API, nothing sent upstream), and an upstream error body that echoes the
 * key is scrubbed before the client, the audit log or the records see it, compressed bodies included.
 * Error shapes: OpenAI https://platform.openai.com/docs/guides/error-codes, Anthropic
 * https://docs.anthropic.com/en/api/errors, Google https://ai.google.dev/gemini-api/docs/troubleshooting#error-codes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallOutcome } from '../src/core/outcome.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type AnthropicSimulator, startAnthropicSimulator } from './simulators/anthropic-simulator.ts';
import { type GeminiSimulator, startGeminiSimulator } from './simulators/gemini-simulator.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'mg-passthrough-limits-key';
// Not key-shaped: only the configured-secret part of the scrubber can find it.
const echoingKey = 'echoing-provider-secret-77c1e2';
let openai: Simulator;
let anthropic: AnthropicSimulator;
let gemini: GeminiSimulator;
let echoing: Server;
let echoingUrl = '';
let running: RunningGateway;
const outcomes: CallOutcome[] = [];

/**
 * An OpenAI-compatible upstream whose 401 echoes the key it was sent, gzip-compressed when the path says so
 * (a provider may compress although the gateway asks for identity).
 */
function startEchoingUpstream(): Promise<Server> {
  const server = createServer((request, response) => {
    request.resume();
    const key = (request.headers.authorization ?? '').replace(/^Bearer /, '');
    const text = JSON.stringify({
      error: { message: `Incorrect API key provided: ${key}.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
    });
    const compressed = request.url?.includes('gzip') === true;
    const body = compressed ? gzipSync(text) : Buffer.from(text);
    response.writeHead(401, {
      'content-type': 'application/json',
      'content-length': String(body.byteLength),
      ...(compressed ? { 'content-encoding': 'gzip' } : {}),
      'x-echo': 'kept',
    });
    response.end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function nested(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

beforeAll(async () => {
  openai = await startOpenAISimulator({ apiKey: 'sk-limits-openai' });
  anthropic = await startAnthropicSimulator({ apiKey: 'sk-ant-limits' });
  gemini = await startGeminiSimulator({ apiKey: 'gemini-limits-key' });
  echoing = await startEchoingUpstream();
  echoingUrl = `http://127.0.0.1:${(echoing.address() as AddressInfo).port}/v1`;
  running = await startGateway({
    MODELGATE_MASTER_KEY: masterKey,
    OPENAI_API_KEY: 'sk-limits-openai',
    OPENAI_BASE_URL: openai.baseUrl,
    ANTHROPIC_API_KEY: 'sk-ant-limits',
    ANTHROPIC_BASE_URL: anthropic.baseUrl,
    GEMINI_API_KEY: 'gemini-limits-key',
    GEMINI_BASE_URL: gemini.baseUrl,
    OPENAI_ECHO_API_KEY: echoingKey,
    OPENAI_ECHO_BASE_URL: echoingUrl,
    ENABLED_PASSTHROUGH_PROVIDERS: 'openai,anthropic,gemini',
    MAX_JSON_DEPTH: '16',
    SQLITE_PATH: ':memory:',
    LOGGING_ENABLED: 'true',
    LOGGING_LOG_BODIES: 'true',
  });
  running.gateway.bus.subscribe((outcome) => outcomes.push(outcome));
});

afterAll(async () => {
  await running?.close();
  await Promise.all([openai?.close(), anthropic?.close(), gemini?.close()]);
  await new Promise((resolve) => echoing?.close(resolve));
});

async function post(
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: unknown; headers: Headers }> {
  const response = await fetch(`${running.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, json: JSON.parse(text) as unknown, headers: response.headers };
}

describe('MAX_JSON_DEPTH on the passthrough', () => {
  it('refuses a body nested too deep with a 400 in the OpenAI shape, sending nothing upstream', async () => {
    const before = openai.requests.length;
    const answer = await post('/p/openai/v1/chat/completions', `{"model":"gpt-4o-mini","messages":${nested(16)}}`);
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ error: { code: 'json_too_deep', message: expect.stringContaining('MAX_JSON_DEPTH') } });
    expect(openai.requests.length).toBe(before);
    // At the limit it goes through (the provider answers it in its own words).
    const fits = await post('/p/openai/v1/chat/completions', `{"model":"gpt-4o-mini","messages":${nested(15)}}`);
    expect(fits.status).not.toBe(500);
    expect(openai.requests.length).toBe(before + 1);
  });

  it('answers in the Anthropic shape on /p/anthropic and in the Google shape on /p/gemini', async () => {
    const before = anthropic.requests.length + gemini.requests.length;
    const deep = nested(100_000);
    const claude = await post('/p/anthropic/v1/messages', `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":${deep}}`, {
      'anthropic-version': '2023-06-01',
    });
    expect(claude.status).toBe(400);
    expect(claude.json).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringContaining('MAX_JSON_DEPTH') },
    });
    const google = await post('/p/gemini/v1beta/models/gemini-2.5-flash:generateContent', `{"contents":${deep}}`);
    expect(google.status).toBe(400);
    expect(google.json).toEqual({ error: { code: 400, status: 'INVALID_ARGUMENT', message: expect.stringContaining('MAX_JSON_DEPTH') } });
    expect(anthropic.requests.length + gemini.requests.length).toBe(before);
    // Recorded as the 400 it was.
    expect(
      outcomes.filter((outcome) => outcome.endpoint === 'passthrough' && outcome.error?.code === 'json_too_deep').length,
    ).toBeGreaterThanOrEqual(2);
  });
});

describe('echoed keys on the passthrough', () => {
  it('scrubs the key from a plain and from a gzip-compressed error body, keeping status, code and headers', async () => {
    for (const path of ['/p/openai-echo/v1/chat/completions', '/p/openai-echo/v1/gzip/chat/completions']) {
      const response = await fetch(`${running.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });
      const text = await response.text();
      expect(response.status).toBe(401);
      expect(text).not.toContain(echoingKey);
      expect(JSON.parse(text)).toEqual({
        error: { message: 'Incorrect API key provided: [REDACTED].', type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
      });
      expect(response.headers.get('x-echo')).toBe('kept');
      expect(response.headers.get('content-encoding')).toBeNull();
      expect(Number(response.headers.get('content-length'))).toBe(Buffer.byteLength(text));
      const outcome = outcomes.find((candidate) => candidate.requestId === response.headers.get('x-request-id'));
      expect(outcome?.status).toBe(401);
      expect(JSON.stringify(outcome?.responseBody)).not.toContain(echoingKey);
    }
    const audited = () =>
      running.gateway.storage?.db
        .selectFrom('audit_log')
        .select(['response_body', 'error_message'])
        .where('provider', '=', 'openai-echo')
        .execute() ?? [];
    // Written by the batch writer within its flush interval.
    await expect.poll(async () => (await audited()).length, { timeout: 10_000 }).toBe(2);
    const records = await audited();
    expect(records.map((record) => record.response_body).join('\n')).toContain('[REDACTED]');
    expect(JSON.stringify(records)).not.toContain(echoingKey);
  });
});
