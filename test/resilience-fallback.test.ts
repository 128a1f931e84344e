/**
 * The fallback stage: lists from MODEL_FALLBACKS, the admin API (stored in the database) and the
 * x-modelgate-fallbacks header; what triggers a fallback and what does not; streams that fail before
 * their first content fall back, after it they end in an explicit error; headers and attempts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ResilientGateway, sseData, startResilientGateway } from './helpers/resilient-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

describe('fallback stage', () => {
  let primary: Simulator;
  let secondary: Simulator;
  let running: ResilientGateway;

  beforeAll(async () => {
    primary = await startOpenAISimulator({ apiKey: 'sk-primary', models: ['gpt-4o', 'gpt-4o-mini', 'small-context'] });
    secondary = await startOpenAISimulator({ apiKey: 'sk-secondary', flavor: 'groq', models: ['llama-3.3-70b-versatile', 'long-context'] });
    running = await startResilientGateway({
      OPENAI_API_KEY: 'sk-primary',
      OPENAI_BASE_URL: primary.baseUrl,
      GROQ_API_KEY: 'sk-secondary',
      GROQ_BASE_URL: secondary.baseUrl,
      RETRY_MAX_RETRIES: '0',
      MODEL_FALLBACKS: JSON.stringify({ 'openai/gpt-4o': ['groq/llama-3.3-70b-versatile'], 'small-context': ['groq/long-context'] }),
    });
  });

  afterAll(async () => {
    await running?.close();
    await primary?.close();
    await secondary?.close();
  });

  beforeEach(() => {
    running.outcomes.length = 0;
    primary.requests.length = 0;
    secondary.requests.length = 0;
  });

  const chat = (model: string, headers: Record<string, string> = {}, stream = false) =>
    running.post('/v1/chat/completions', { model, stream, messages: [{ role: 'user', content: 'hi' }] }, headers);

  it('falls back on a 5xx to the configured list, with x-modelgate-fallback and x-modelgate-attempts', async () => {
    primary.script('gpt-4o', ['server-error']);
    const response = await chat('openai/gpt-4o');
    expect(response.status).toBe(200);
    expect((await response.json()).choices[0].message.content).toBe('Hello from groq: hi');
    expect(response.headers.get('x-modelgate-fallback')).toBe('openai/gpt-4o -> groq/llama-3.3-70b-versatile');
    expect(response.headers.get('x-modelgate-attempts')).toBe('2');
    expect(response.headers.get('x-modelgate-provider')).toBe('groq');
    expect(running.outcomes).toHaveLength(1);
    expect(running.outcomes[0]).toMatchObject({ provider: 'groq', model: 'llama-3.3-70b-versatile', requestedModel: 'openai/gpt-4o', status: 200 });
    expect(running.outcomes[0]?.attempts.map((attempt) => `${attempt.provider}/${attempt.model}:${attempt.status}`)).toEqual([
      'openai/gpt-4o:502',
      'groq/llama-3.3-70b-versatile:200',
    ]);
  });

  it('falls back on 429, 503, model not found, and context length (to the larger-context model)', async () => {
    for (const step of ['rate-limited:1', 'overloaded', 'not-found']) {
      primary.script('gpt-4o', [step]);
      const response = await chat('openai/gpt-4o');
      expect(response.status, step).toBe(200);
      expect(response.headers.get('x-modelgate-fallback'), step).toContain('groq/');
    }
    primary.script('small-context', ['context-length']);
    const response = await chat('small-context');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-modelgate-fallback')).toBe('small-context -> groq/long-context');
  });

  it('does not fall back on a request the upstream refuses as invalid (400)', async () => {
    const response = await chat('openai/sim-bad-request', { 'x-modelgate-fallbacks': 'groq/llama-3.3-70b-versatile' });
    expect(response.status).toBe(400);
    expect(secondary.requests).toHaveLength(0);
    expect(running.outcomes[0]?.attempts).toHaveLength(1);
  });

  it('takes the order of the x-modelgate-fallbacks header, trying each in turn', async () => {
    primary.script('gpt-4o', ['server-error']);
    secondary.script('llama-3.3-70b-versatile', ['overloaded']);
    primary.script('gpt-4o-mini', ['server-error']);
    const response = await chat('openai/gpt-4o', { 'x-modelgate-fallbacks': 'groq/llama-3.3-70b-versatile, openai/gpt-4o-mini,groq/long-context' });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-modelgate-fallback')).toBe('openai/gpt-4o -> groq/long-context');
    expect(response.headers.get('x-modelgate-attempts')).toBe('4');
    expect(running.outcomes[0]?.attempts.map((attempt) => attempt.model)).toEqual(['gpt-4o', 'llama-3.3-70b-versatile', 'gpt-4o-mini', 'long-context']);
  });

  it('refuses a malformed x-modelgate-fallbacks header in the caller API shape', async () => {
    const response = await chat('openai/gpt-4o', { 'x-modelgate-fallbacks': Array.from({ length: 9 }, (_unused, index) => `m${index}`).join(',') });
    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatchObject({ code: 'invalid_fallbacks', param: 'x-modelgate-fallbacks' });
  });

  it('ends with the last error when every model fails', async () => {
    primary.script('gpt-4o', ['server-error']);
    secondary.script('llama-3.3-70b-versatile', ['bad-gateway']);
    const response = await chat('openai/gpt-4o');
    expect(response.status).toBe(502);
    expect(running.outcomes).toHaveLength(1);
    expect(running.outcomes[0]?.attempts.map((attempt) => attempt.error)).toEqual(['upstream_500', 'upstream_502']);
  });

  it('falls back when a stream is cut before its first content, replaying one complete stream', async () => {
    primary.script('gpt-4o', ['cut-before-content']);
    const response = await chat('openai/gpt-4o', {}, true);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-modelgate-fallback')).toBe('openai/gpt-4o -> groq/llama-3.3-70b-versatile');
    const data = sseData(await response.text());
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((item) => JSON.parse(item));
    expect(new Set(chunks.map((chunk) => chunk.model))).toEqual(new Set(['llama-3.3-70b-versatile']));
    expect(chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('')).toBe('Hello from groq: hi');
  });

  it('never switches silently once content left: an error event, an error record, no second model', async () => {
    primary.script('gpt-4o', ['cut-after-content']);
    const response = await chat('openai/gpt-4o', {}, true);
    const data = sseData(await response.text());
    expect(data.at(-1)).not.toBe('[DONE]');
    expect(JSON.parse(data.at(-1) as string).error).toBeDefined();
    expect(secondary.requests).toHaveLength(0);
    await expect.poll(() => running.outcomes.length).toBe(1);
    expect(running.outcomes[0]?.error).not.toBeNull();
  });

  it('serves fallback lists from the admin API (stored in the database), listed with their source', async () => {
    const created = await running.admin('POST', '/fallbacks', { model: 'openai/gpt-4o-mini', fallbacks: ['groq/llama-3.3-70b-versatile'] });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ model: 'openai/gpt-4o-mini', fallbacks: ['groq/llama-3.3-70b-versatile'], source: 'admin' });
    const listed = await running.admin('GET', '/fallbacks');
    expect(listed.body.data).toEqual(
      expect.arrayContaining([
        { model: 'openai/gpt-4o', fallbacks: ['groq/llama-3.3-70b-versatile'], source: 'config' },
        { model: 'openai/gpt-4o-mini', fallbacks: ['groq/llama-3.3-70b-versatile'], source: 'admin' },
      ]),
    );
    primary.script('gpt-4o-mini', ['server-error']);
    const response = await chat('openai/gpt-4o-mini');
    expect(response.headers.get('x-modelgate-fallback')).toBe('openai/gpt-4o-mini -> groq/llama-3.3-70b-versatile');

    expect((await running.admin('POST', '/fallbacks', { model: 'x', fallbacks: ['x'] })).status).toBe(400);
    expect((await running.admin('POST', '/fallbacks', { model: 'x', fallbacks: [] })).status).toBe(400);
    expect((await running.admin('DELETE', '/fallbacks?model=openai%2Fgpt-4o')).status).toBe(409);
    expect((await running.admin('DELETE', '/fallbacks?model=nothing')).status).toBe(404);
    const deleted = await running.admin('DELETE', `/fallbacks?model=${encodeURIComponent('openai/gpt-4o-mini')}`);
    expect(deleted.body).toEqual({ model: 'openai/gpt-4o-mini', deleted: true });
    primary.script('gpt-4o-mini', ['server-error']);
    expect((await chat('openai/gpt-4o-mini')).status).toBe(502);
  });
});
