/**
 * The request's total deadline (RETRY_TOTAL_TIMEOUT) cuts the retry or fallback attempt in flight
 * (issue 9): a retry or a fallback that hangs is aborted upstream when the deadline passes and the client
 * gets `504 request_deadline_exceeded` at once, not after the upstream timeouts. A stream that has started
 * is the answer and runs past the deadline; a first attempt is not cut (UPSTREAM_TOTAL_TIMEOUT bounds it).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'mg-deadline-key';
let upstream: Simulator;
/** Streams one chunk every 100 ms, so a long answer outlasts the deadline. */
let slowStreams: Simulator;
let running: RunningGateway;

beforeAll(async () => {
  upstream = await startOpenAISimulator({ apiKey: 'sk-deadline-upstream', models: ['gpt-4o-mini', 'gpt-4o'] });
  slowStreams = await startOpenAISimulator({ apiKey: 'sk-deadline-slow', models: ['slow-stream-model'], chunkDelayMs: 100 });
  running = await startGateway({
    MODELGATE_MASTER_KEY: masterKey,
    OPENAI_API_KEY: 'sk-deadline-upstream',
    OPENAI_BASE_URL: upstream.baseUrl,
    OPENAI_SLOW_API_KEY: 'sk-deadline-slow',
    OPENAI_SLOW_BASE_URL: slowStreams.baseUrl,
    SQLITE_PATH: ':memory:',
    RETRY_MAX_RETRIES: '2',
    RETRY_INITIAL_BACKOFF: '20ms',
    RETRY_TOTAL_TIMEOUT: '1500ms',
    // Far beyond the deadline: only the deadline can end the hanging attempts below in time.
    UPSTREAM_HEADERS_TIMEOUT_MS: '60000',
    UPSTREAM_BODY_TIMEOUT_MS: '60000',
    STREAM_START_TIMEOUT: '60s',
  });
});

afterAll(async () => {
  await running?.close();
  await upstream?.close();
  await slowStreams?.close();
});

beforeEach(() => {
  upstream.requests.length = 0;
});

async function chat(model: string, options: { stream?: boolean; headers?: Record<string, string>; content?: string } = {}) {
  const started = performance.now();
  const response = await fetch(`${running.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json', ...options.headers },
    body: JSON.stringify({ model, stream: options.stream === true, messages: [{ role: 'user', content: options.content ?? 'hi' }] }),
  });
  const text = await response.text();
  return { status: response.status, text, elapsedMs: performance.now() - started, headers: response.headers };
}

const chatCalls = () => upstream.requests.filter((request) => request.path.endsWith('/chat/completions'));

describe('total deadline', () => {
  it('cuts a retry that hangs and aborts it upstream', async () => {
    upstream.script('gpt-4o-mini', ['server-error', 'hang']);
    const answer = await chat('gpt-4o-mini');
    expect(answer.status).toBe(504);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'request_deadline_exceeded', type: 'timeout_error' } });
    // Well before the 60 s the upstream timeouts would have taken.
    expect(answer.elapsedMs).toBeLessThan(15_000);
    expect(chatCalls()).toHaveLength(2);
    await expect.poll(() => chatCalls()[1]?.aborted, { timeout: 5_000 }).toBe(true);
  });

  it('cuts a streamed retry that opened but sent no content', async () => {
    upstream.script('gpt-4o-mini', ['server-error', 'hang-before-content']);
    const answer = await chat('gpt-4o-mini', { stream: true });
    expect(answer.status).toBe(504);
    expect(answer.text).toContain('request_deadline_exceeded');
    expect(answer.elapsedMs).toBeLessThan(15_000);
    await expect.poll(() => chatCalls()[1]?.aborted, { timeout: 5_000 }).toBe(true);
  });

  it('cuts a fallback that hangs', async () => {
    upstream.script('gpt-4o-mini', ['overloaded', 'overloaded', 'overloaded']);
    upstream.script('gpt-4o', ['hang']);
    const answer = await chat('gpt-4o-mini', { headers: { 'x-modelgate-fallbacks': 'gpt-4o' } });
    expect(answer.status).toBe(504);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'request_deadline_exceeded' } });
    expect(answer.elapsedMs).toBeLessThan(15_000);
    const fallbackCall = () => chatCalls().find((request) => request.body?.model === 'gpt-4o');
    await expect.poll(() => fallbackCall()?.aborted, { timeout: 5_000 }).toBe(true);
  });

  it('lets a retried stream that has started run past the deadline, and never cuts a first attempt', async () => {
    // `sim-slow-<ms>` answers after that delay: 2.5 s, past the 1.5 s deadline, on the first attempt.
    const slow = await chat('openai/sim-slow-2500');
    expect(slow.status).toBe(200);
    expect(slow.elapsedMs).toBeGreaterThan(1_500);
    // A retry whose stream starts before the deadline and streams for about 3 s (30 words, 100 ms apart).
    slowStreams.script('slow-stream-model', ['server-error']);
    const words = Array.from({ length: 30 }, (_unused, index) => `word${index}`).join(' ');
    const retried = await chat('openai-slow/slow-stream-model', { stream: true, content: words });
    expect(retried.status).toBe(200);
    expect(retried.headers.get('x-modelgate-attempts')).toBe('2');
    expect(retried.elapsedMs).toBeGreaterThan(1_500);
    expect(retried.text).toContain('word29');
    expect(retried.text).toContain('data: [DONE]');
  });
});
