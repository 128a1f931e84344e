/**
 * `/p/{provider}/...` end to end: the official openai and @anthropic-ai/sdk clients pointed at the
 * passthrough, over the OpenAI, Anthropic and Gemini simulators; headers stripped and injected, path
 * escapes refused, usage read from native bodies and streams, retries only for idempotent requests,
 * bodies streamed through without being held.
 */
import { request as httpRequest } from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { CallOutcome } from '../src/core/outcome.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type AnthropicSimulator, startAnthropicSimulator } from './simulators/anthropic-simulator.ts';
import { type GeminiSimulator, startGeminiSimulator } from './simulators/gemini-simulator.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'mg-passthrough-key';
let openai: Simulator;
let anthropic: AnthropicSimulator;
let gemini: GeminiSimulator;
let running: RunningGateway;
const outcomes: CallOutcome[] = [];

beforeAll(async () => {
  openai = await startOpenAISimulator({ apiKey: 'sk-upstream-openai' });
  anthropic = await startAnthropicSimulator({ apiKey: 'sk-ant-upstream' });
  gemini = await startGeminiSimulator({ apiKey: 'gemini-upstream-key' });
  running = await startGateway({
    MODELGATE_MASTER_KEY: masterKey,
    OPENAI_API_KEY: 'sk-upstream-openai',
    OPENAI_BASE_URL: openai.baseUrl,
    ANTHROPIC_API_KEY: 'sk-ant-upstream',
    ANTHROPIC_BASE_URL: anthropic.baseUrl,
    GEMINI_API_KEY: 'gemini-upstream-key',
    GEMINI_BASE_URL: gemini.baseUrl,
    GROQ_API_KEY: 'gsk-not-enabled',
    GROQ_BASE_URL: openai.baseUrl,
    ENABLED_PASSTHROUGH_PROVIDERS: 'openai,anthropic,gemini',
  });
  running.gateway.bus.subscribe((outcome) => outcomes.push(outcome));
});

afterAll(async () => {
  await running?.close();
  await Promise.all([openai?.close(), anthropic?.close(), gemini?.close()]);
});

/** The outcome of the last call whose request id is `requestId`, waiting for it to be emitted. */
async function outcomeOf(requestId: string | null | undefined): Promise<CallOutcome> {
  for (let tries = 0; tries < 500; tries++) {
    const found = outcomes.find((outcome) => outcome.requestId === requestId);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no outcome for ${requestId}`);
}

/** A request with the path sent exactly as written (fetch would normalize dot segments away). */
function rawRequest(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(running.url);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: url.hostname, port: url.port, method, path, headers: { authorization: `Bearer ${masterKey}`, ...headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

describe('passthrough with the openai SDK', () => {
  let client: OpenAI;
  beforeAll(() => {
    client = new OpenAI({ apiKey: masterKey, baseURL: `${running.url}/p/openai/v1`, maxRetries: 0, defaultHeaders: { 'x-forwarded-for': '203.0.113.9', 'x-custom-trace': 'kept' } });
  });

  it('relays a chat completion, swaps the credentials and records usage from the native body', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello there' }] }).withResponse();
    expect(data.choices[0]?.message.content).toBe('Hello from openai: Hello there');
    expect(response.headers.get('x-modelgate-provider')).toBe('openai');
    const upstream = openai.requests.at(-1);
    expect(upstream?.path).toBe('/v1/chat/completions');
    expect(upstream?.headers.authorization).toBe('Bearer sk-upstream-openai');
    expect(upstream?.headers['x-forwarded-for']).toBeUndefined();
    expect(upstream?.headers['x-custom-trace']).toBe('kept');
    expect(JSON.stringify(upstream?.headers)).not.toContain(masterKey);
    const outcome = await outcomeOf(response.headers.get('x-request-id'));
    expect(outcome).toMatchObject({ endpoint: 'passthrough', provider: 'openai', requestedModel: 'gpt-4o-mini', model: 'gpt-4o-mini', status: 200, stream: false, method: 'POST' });
    expect(outcome.usage).toMatchObject({ inputTokens: 2, outputTokens: data.usage?.completion_tokens, totalTokens: data.usage?.total_tokens });
  });

  it('streams a chat completion and reads usage from the native stream', async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a b c d' }], stream: true, stream_options: { include_usage: true } }).withResponse();
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream.data) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Hello from openai: a b c d');
    // Opaque: the client asked for include_usage itself and the gateway changed nothing.
    expect(openai.requests.at(-1)?.body?.stream_options).toEqual({ include_usage: true });
    const outcome = await outcomeOf(stream.response.headers.get('x-request-id'));
    expect(outcome).toMatchObject({ endpoint: 'passthrough', stream: true, status: 200 });
    expect(outcome.usage).toMatchObject({ inputTokens: 4, outputTokens: usage?.completion_tokens });
  });

  it('maps /p/openai/... like /p/openai/v1/... (the v1 alias)', async () => {
    const response = await fetch(`${running.url}/p/openai/models`, { headers: { authorization: `Bearer ${masterKey}` } });
    expect(response.status).toBe(200);
    expect(openai.requests.at(-1)?.path).toBe('/v1/models');
    const models = (await response.json()) as { data: { id: string }[] };
    expect(models.data.map((model) => model.id)).toContain('gpt-4o-mini');
  });

  it('relays upstream errors opaque, with their status', async () => {
    const error = await client.chat.completions.create({ model: 'sim-rate-limited', messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after')).toBe('20');
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('rate_limit_exceeded');
  });
});

describe('passthrough with the @anthropic-ai/sdk', () => {
  let client: Anthropic;
  beforeAll(() => {
    client = new Anthropic({ apiKey: masterKey, baseURL: `${running.url}/p/anthropic`, maxRetries: 0 });
  });

  it('relays a message with the provider key and version', async () => {
    const { data, response } = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'Hi Claude' }] }).withResponse();
    expect(data.type).toBe('message');
    const upstream = anthropic.requests.at(-1);
    expect(upstream?.path).toBe('/v1/messages');
    expect(upstream?.headers['x-api-key']).toBe('sk-ant-upstream');
    expect(upstream?.headers['anthropic-version']).toBeDefined();
    const outcome = await outcomeOf(response.headers.get('x-request-id'));
    expect(outcome).toMatchObject({ provider: 'anthropic', providerType: 'anthropic', model: data.model, status: 200 });
    expect(outcome.usage).toMatchObject({ inputTokens: data.usage.input_tokens + (data.usage.cache_read_input_tokens ?? 0) + (data.usage.cache_creation_input_tokens ?? 0), outputTokens: data.usage.output_tokens });
  });

  it('streams a message and reads usage from message_start and message_delta', async () => {
    const stream = client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'Stream me some words' }] });
    const message = await stream.finalMessage();
    const requestId = (await stream.withResponse()).response.headers.get('x-request-id');
    const outcome = await outcomeOf(requestId);
    expect(outcome).toMatchObject({ stream: true, status: 200, provider: 'anthropic' });
    expect(outcome.usage?.outputTokens).toBe(message.usage.output_tokens);
    expect(outcome.usage?.inputTokens).toBeGreaterThan(0);
  });

  it('answers gateway errors in Anthropic shape', async () => {
    const error = await new Anthropic({ apiKey: 'wrong', baseURL: `${running.url}/p/anthropic`, maxRetries: 0 }).messages
      .create({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
  });
});

describe('passthrough to Gemini', () => {
  it('injects x-goog-api-key, drops a key in the query, reads usage from the native SSE stream', async () => {
    const response = await fetch(`${running.url}/p/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=client-key`, {
      method: 'POST',
      headers: { 'x-goog-api-key': masterKey, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Hello Gemini friend' }] }] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const text = await response.text();
    expect(text).toContain('usageMetadata');
    const upstream = gemini.requests.at(-1);
    expect(upstream?.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent');
    expect(upstream?.query.get('key')).toBeNull();
    expect(upstream?.query.get('alt')).toBe('sse');
    expect(upstream?.headers['x-goog-api-key']).toBe('gemini-upstream-key');
    const outcome = await outcomeOf(response.headers.get('x-request-id'));
    expect(outcome).toMatchObject({ provider: 'gemini', requestedModel: 'gemini-2.5-flash', stream: true });
    expect(outcome.usage?.inputTokens).toBe(3);
    expect(outcome.usage?.outputTokens).toBeGreaterThan(0);
  });
});

describe('passthrough safety', () => {
  it.each([
    '/p/openai/v1/../../admin',
    '/p/openai/v1/%2e%2e/secret',
    '/p/openai/v1/.%2E/secret',
    '/p/openai/v1/models%2f..%2fx',
    '/p/openai/v1/models%5Cx',
    '/p/openai/v1//models',
    '/p/openai/v1/./models',
    '/p/openai/v1/models%252e',
    '/p/openai/v1/models%00',
  ])('refuses %s with 400 before reaching the provider', async (path) => {
    const before = openai.requests.length;
    const response = await rawRequest('GET', path);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'invalid_passthrough_path', type: 'invalid_request_error' } });
    expect(openai.requests.length).toBe(before);
  });

  it('refuses a malformed escape with 400', async () => {
    const before = openai.requests.length;
    expect((await rawRequest('GET', '/p/openai/v1/models%zz')).status).toBe(400);
    expect(openai.requests.length).toBe(before);
  });

  it('refuses escapes in the Anthropic shape on /p/anthropic', async () => {
    const response = await rawRequest('GET', '/p/anthropic/v1/%2e%2e/x');
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('requires the gateway key', async () => {
    const response = await fetch(`${running.url}/p/openai/v1/models`);
    expect(response.status).toBe(401);
  });

  it('answers 404 for a provider that is not configured or not enabled', async () => {
    for (const provider of ['nowhere', 'groq']) {
      const response = await rawRequest('GET', `/p/${provider}/v1/models`);
      expect(response.status).toBe(404);
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'provider_not_found' } });
    }
  });

  it('retries idempotent requests on 502/503/504, never POST', async () => {
    openai.injectFaults([503, 502]);
    const get = await rawRequest('GET', '/p/openai/v1/models');
    expect(get.status).toBe(200);
    openai.injectFaults([503]);
    const before = openai.requests.length;
    const post = await rawRequest('POST', '/p/openai/v1/chat/completions', { 'content-type': 'application/json' }, JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }));
    expect(post.status).toBe(503);
    expect(openai.requests.length).toBe(before + 1);
  });

  it('relays HEAD and OPTIONS', async () => {
    const head = await rawRequest('HEAD', '/p/openai/v1/models');
    expect(openai.requests.at(-1)?.method).toBe('HEAD');
    expect(head.body).toBe('');
    await rawRequest('OPTIONS', '/p/openai/v1/models');
    expect(openai.requests.at(-1)?.method).toBe('OPTIONS');
  });

  it('streams the answer through before the provider has finished it', async () => {
    const hold = openai.holdNextSpeech(32 * 1024);
    const response = await fetch(`${running.url}/p/openai/v1/audio/speech`, {
      method: 'POST',
      headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tts-1', voice: 'alloy', input: 'x'.repeat(2048) }),
    });
    expect(response.headers.get('content-type')).toBe('audio/mpeg');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let received = 0;
    // The provider holds the rest until these bytes are through: a buffering gateway would never deliver them.
    while (received < 32 * 1024) {
      const { value, done } = await reader.read();
      if (done) throw new Error('ended early');
      received += value.byteLength;
    }
    hold.release();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      received += value.byteLength;
    }
    expect(received).toBe(2048 * 64);
  });
});

describe('passthrough streaming', () => {
  it('relays an upload as it arrives (the provider has the first part before the client sent the rest)', async () => {
    const url = new URL(running.url);
    const boundary = `----modelgate${Date.now()}`;
    const part = Buffer.alloc(1024 * 1024, 7);
    const before = openai.uploadedBytes();
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const outgoing = httpRequest(
        { host: url.hostname, port: url.port, method: 'POST', path: '/p/openai/v1/audio/transcriptions', headers: { authorization: `Bearer ${masterKey}`, 'content-type': `multipart/form-data; boundary=${boundary}` } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      outgoing.on('error', reject);
      outgoing.write(`--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n`);
      outgoing.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="talk.mp3"\r\nContent-Type: audio/mpeg\r\n\r\n`);
      outgoing.write(part);
      void (async () => {
        // A gateway that buffered the body would never let the provider see this part before the end.
        while (openai.uploadedBytes() - before < part.byteLength - 64 * 1024) await new Promise((resolve) => setTimeout(resolve, 5));
        outgoing.write(part);
        outgoing.end(`\r\n--${boundary}--\r\n`);
      })();
    });
    const { status, body } = await answer;
    expect(status).toBe(200);
    expect(JSON.parse(body)).toEqual({ text: `Heard ${2 * part.byteLength} bytes with whisper-1.` });
    expect(openai.requests.at(-1)?.headers.authorization).toBe('Bearer sk-upstream-openai');
  });

  it('aborts the upstream call when the client leaves mid-stream and records 499', async () => {
    const controller = new AbortController();
    // Its own connection pool, closed at the end: after an abort the client may open a spare connection
    // that never carries a request, which would hold the gateway's close until the headers timeout.
    const agent = new Agent();
    onTestFinished(() => agent.destroy());
    const client = new OpenAI({
      apiKey: masterKey,
      baseURL: `${running.url}/p/openai/v1`,
      maxRetries: 0,
      fetch: ((input: string | URL | Request, init?: RequestInit) => undiciFetch(input as string, { ...(init as object), dispatcher: agent })) as unknown as typeof fetch,
    });
    const { data, response } = await client.chat.completions
      .create({ model: 'sim-hang-stream', messages: [{ role: 'user', content: 'x' }], stream: true }, { signal: controller.signal })
      .withResponse();
    for await (const _chunk of data) break;
    controller.abort();
    await openai.waitForAbort();
    const outcome = await outcomeOf(response.headers.get('x-request-id'));
    expect(outcome.status).toBe(499);
    expect(outcome.error?.code).toBe('client_closed_request');
  });
});

describe('passthrough switched off', () => {
  it('serves no /p routes with ENABLE_PASSTHROUGH_ROUTES=false', async () => {
    const off = await startGateway({ OPENAI_API_KEY: 'sk-upstream-openai', OPENAI_BASE_URL: openai.baseUrl, ENABLE_PASSTHROUGH_ROUTES: 'false' });
    try {
      const response = await fetch(`${off.url}/p/openai/v1/models`);
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unknown_endpoint');
    } finally {
      await off.close();
    }
  });
});
