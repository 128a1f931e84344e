/**
 * The retry stage against a simulator scripted to fail: counts and waits (fake clock), the upstream's
 * Retry-After / retry-after-ms / x-ratelimit-reset-* honoured up to RETRY_MAX_BACKOFF, the total
 * deadline, non-retryable errors, streams cut before and after their first content, and every inbound
 * API through the same stage.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backoffMs } from '../src/routing/stages/retry-stage.ts';
import { masterKey, type ResilientGateway, sseData, startResilientGateway } from './helpers/resilient-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const settings = { maxRetries: 3, initialBackoffMs: 1000, maxBackoffMs: 30_000, backoffFactor: 2, jitterFactor: 0.1, totalTimeoutMs: 120_000, streamStartTimeoutMs: 1000 };

describe('backoff', () => {
  it('grows by the factor from the initial backoff, capped, with jitter within the factor', () => {
    expect([1, 2, 3, 4].map((retry) => backoffMs(settings, retry, 0.5))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffMs(settings, 10, 0.5)).toBe(30_000);
    expect(backoffMs(settings, 1, 0)).toBe(900);
    expect(backoffMs(settings, 1, 0.999_999)).toBe(1100);
  });
});

describe('retry stage', () => {
  let upstream: Simulator;
  let running: ResilientGateway;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startOpenAISimulator({ apiKey: 'sk-upstream' });
    running = await startResilientGateway({
      OPENAI_API_KEY: 'sk-upstream',
      OPENAI_BASE_URL: upstream.baseUrl,
      RETRY_MAX_RETRIES: '3',
      RETRY_TOTAL_TIMEOUT: '20s',
      UPSTREAM_HEADERS_TIMEOUT_MS: '400',
      STREAM_START_TIMEOUT: '400ms',
    });
    client = new OpenAI({ apiKey: masterKey, baseURL: `${running.url}/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await running?.close();
    await upstream?.close();
  });

  beforeEach(() => {
    running.clock.reset();
    running.outcomes.length = 0;
    upstream.requests.length = 0;
  });

  const ask = (model = 'gpt-4o-mini') => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }).withResponse();

  it('retries N failures then answers, waiting 1 s, 2 s between attempts, every attempt in the one outcome', async () => {
    upstream.script('gpt-4o-mini', ['server-error', 'bad-gateway']);
    const { data, response } = await ask();
    expect(data.choices[0]?.message.content).toBe('Hello from openai: hi');
    expect(response.headers.get('x-modelgate-attempts')).toBe('3');
    expect(running.clock.sleeps).toEqual([1000, 2000]);
    expect(upstream.requests.filter((request) => request.method === 'POST')).toHaveLength(3);
    expect(running.outcomes).toHaveLength(1);
    expect(running.outcomes[0]?.status).toBe(200);
    expect(running.outcomes[0]?.attempts.map((attempt) => [attempt.status, attempt.error])).toEqual([
      [502, 'upstream_500'],
      [502, 'upstream_502'],
      [200, null],
    ]);
  });

  it('gives up after RETRY_MAX_RETRIES with the last upstream error', async () => {
    upstream.script('gpt-4o-mini', ['overloaded', 'overloaded', 'overloaded', 'overloaded', 'overloaded']);
    await expect(ask()).rejects.toMatchObject({ status: 503 });
    expect(running.clock.sleeps).toEqual([1000, 2000, 4000]);
    expect(running.outcomes[0]?.attempts).toHaveLength(4);
    upstream.script('gpt-4o-mini', []);
  });

  it('waits what Retry-After, retry-after-ms and x-ratelimit-reset-requests say', async () => {
    upstream.script('gpt-4o-mini', ['rate-limited:3', 'rate-limited-ms:150', 'rate-limited-reset:1.5s']);
    const { data } = await ask();
    expect(data.choices[0]?.message.content).toBe('Hello from openai: hi');
    expect(running.clock.sleeps).toEqual([3000, 150, 1500]);
  });

  it('does not wait for a Retry-After above RETRY_MAX_BACKOFF: the 429 goes up at once', async () => {
    upstream.script('gpt-4o-mini', ['rate-limited:120']);
    await expect(ask()).rejects.toMatchObject({ status: 429 });
    expect(running.clock.sleeps).toEqual([]);
    expect(running.outcomes[0]?.attempts).toHaveLength(1);
  });

  it('never retries errors that are not retryable (400, 404, 401)', async () => {
    upstream.script('gpt-4o-mini', ['context-length']);
    await expect(ask()).rejects.toMatchObject({ status: 400, code: 'context_length_exceeded' });
    upstream.script('gpt-4o-mini', ['not-found']);
    await expect(ask()).rejects.toMatchObject({ status: 404 });
    expect(running.clock.sleeps).toEqual([]);
    expect(upstream.requests.filter((request) => request.method === 'POST')).toHaveLength(2);
  });

  it('retries a hung upstream (headers timeout) and stops at the total deadline', async () => {
    upstream.script('gpt-4o-mini', ['hang', 'ok']);
    const { data } = await ask();
    expect(data.choices[0]?.message.content).toBe('Hello from openai: hi');
    expect(running.outcomes[0]?.attempts.map((attempt) => attempt.error)).toEqual(['upstream_timeout', null]);

    running.outcomes.length = 0;
    running.clock.reset();
    // 20 s deadline: waits of 1 s, 2 s, 4 s fit; a Retry-After of 25 s after them does not (and is under the cap).
    upstream.script('gpt-4o-mini', ['server-error', 'server-error', 'rate-limited:15', 'rate-limited:25']);
    await expect(ask()).rejects.toMatchObject({ status: 429 });
    expect(running.clock.sleeps).toEqual([1000, 2000, 15_000]);
    expect(running.outcomes[0]?.attempts).toHaveLength(4);
  });

  it('retries a stream cut before its first content; the client sees one complete stream', async () => {
    upstream.script('gpt-4o-mini', ['cut-before-content', 'hang-before-content']);
    const response = await running.post('/v1/chat/completions', { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-modelgate-attempts')).toBe('3');
    const data = sseData(await response.text());
    expect(data.at(-1)).toBe('[DONE]');
    const text = data
      .slice(0, -1)
      .map((item) => JSON.parse(item).choices[0]?.delta?.content ?? '')
      .join('');
    expect(text).toBe('Hello from openai: hi');
    expect(running.outcomes[0]?.attempts.map((attempt) => attempt.error)).toEqual(['upstream_unreachable', 'stream_start_timeout', null]);
    expect(running.outcomes[0]?.status).toBe(200);
    // The attempt given up at the start timeout was torn down upstream, not left hanging.
    const posts = upstream.requests.filter((request) => request.method === 'POST');
    await expect.poll(() => posts[1]?.aborted).toBe(true);
  });

  it('never retries once content reached the client: an explicit error event and an error record', async () => {
    upstream.script('gpt-4o-mini', ['cut-after-content']);
    const response = await running.post('/v1/chat/completions', { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const data = sseData(await response.text());
    expect(JSON.parse(data[1] as string).choices[0].delta.content).toBe('Partial ');
    expect(data.at(-1)).not.toBe('[DONE]');
    expect(JSON.parse(data.at(-1) as string).error).toBeDefined();
    expect(upstream.requests.filter((request) => request.method === 'POST')).toHaveLength(1);
    await expect.poll(() => running.outcomes.length).toBe(1);
    expect(running.outcomes[0]?.status).toBeGreaterThanOrEqual(500);
    expect(running.outcomes[0]?.error).not.toBeNull();
  });

  it('retries embeddings, Responses and Messages through the same stage', async () => {
    upstream.script('*', ['server-error']);
    const embedding = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hi' });
    expect(embedding.data).toHaveLength(1);
    upstream.script('*', ['server-error']);
    const answer = await client.responses.create({ model: 'gpt-4o-mini', input: 'hi' });
    expect(answer.output_text).toBe('Hello from openai: hi');
    upstream.script('*', ['server-error']);
    const messages = await fetch(`${running.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': masterKey, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(messages.status).toBe(200);
    expect(running.outcomes.map((outcome) => [outcome.endpoint, outcome.attempts.length, outcome.status])).toEqual([
      ['embeddings', 2, 200],
      ['responses', 2, 200],
      ['messages', 2, 200],
    ]);
    expect(running.clock.sleeps).toEqual([1000, 1000, 1000]);
  });
});
