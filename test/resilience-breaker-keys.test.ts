// biome-ignore-all lint/suspicious/noExplicitAny: admin API JSON bodies are checked field by field with expect()
/**
 * Circuit breakers per target (open -> half-open -> closed on a fake clock, 429 does not trip, an open
 * circuit fails fast with a retryable 503 so a fallback moves on) and key pools (a 401 key taken out,
 * a 429 key cooling down, all keys out -> 502 upstream_credentials_exhausted, refresh), with
 * /admin/api/v1/providers/status and /admin/api/v1/runtime/refresh, and no key in any output.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ResilientGateway, startResilientGateway } from './helpers/resilient-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const posts = (simulator: Simulator) => simulator.requests.filter((request) => request.method === 'POST').length;

describe('circuit breakers', () => {
  let upstream: Simulator;
  let backup: Simulator;
  let running: ResilientGateway;

  beforeAll(async () => {
    upstream = await startOpenAISimulator({ apiKey: 'sk-upstream' });
    backup = await startOpenAISimulator({ apiKey: 'sk-backup', flavor: 'groq', models: ['llama-3.3-70b-versatile'] });
    running = await startResilientGateway({
      OPENAI_API_KEY: 'sk-upstream',
      OPENAI_BASE_URL: upstream.baseUrl,
      GROQ_API_KEY: 'sk-backup',
      GROQ_BASE_URL: backup.baseUrl,
      RETRY_MAX_RETRIES: '0',
      CIRCUIT_BREAKER_FAILURE_THRESHOLD: '3',
      CIRCUIT_BREAKER_SUCCESS_THRESHOLD: '2',
      CIRCUIT_BREAKER_TIMEOUT: '30s',
    });
  });

  afterAll(async () => {
    await running?.close();
    await upstream?.close();
    await backup?.close();
  });

  beforeEach(() => {
    running.outcomes.length = 0;
    upstream.requests.length = 0;
  });

  const chat = (model: string, headers: Record<string, string> = {}) =>
    running.post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] }, headers);
  const circuit = async (model: string) => {
    const status = await running.admin('GET', '/providers/status');
    const openai = status.body.data.find((provider: any) => provider.name === 'openai');
    return openai.targets.find((target: any) => target.model === model);
  };

  it('does not trip on 429s', async () => {
    upstream.script('gpt-4o', ['rate-limited:1', 'rate-limited:1', 'rate-limited:1', 'rate-limited:1']);
    for (let index = 0; index < 4; index++) expect((await chat('openai/gpt-4o')).status).toBe(429);
    expect((await circuit('gpt-4o')).circuit).toBe('closed');
    expect((await chat('openai/gpt-4o')).status).toBe(200);
  });

  it('opens after the failure threshold, fails fast with a retryable 503, then half-open lets probes through and closes', async () => {
    upstream.script('gpt-4o-mini', ['server-error', 'server-error', 'server-error']);
    for (let index = 0; index < 3; index++) expect((await chat('openai/gpt-4o-mini')).status).toBe(502);
    expect(await circuit('gpt-4o-mini')).toMatchObject({ circuit: 'open', consecutive_failures: 3 });
    upstream.requests.length = 0;
    running.outcomes.length = 0;

    const fast = await chat('openai/gpt-4o-mini');
    expect(fast.status).toBe(503);
    expect(fast.headers.get('retry-after')).toBe('30');
    expect((await fast.json()).error).toMatchObject({ code: 'circuit_open', type: 'upstream_error' });
    expect(posts(upstream)).toBe(0);
    expect(running.outcomes[0]?.attempts).toEqual([expect.objectContaining({ provider: 'openai', model: 'gpt-4o-mini', status: 503, error: 'circuit_open' })]);

    // An open circuit makes the fallback move on at once.
    const moved = await chat('openai/gpt-4o-mini', { 'x-modelgate-fallbacks': 'groq/llama-3.3-70b-versatile' });
    expect(moved.status).toBe(200);
    expect(moved.headers.get('x-modelgate-fallback')).toBe('openai/gpt-4o-mini -> groq/llama-3.3-70b-versatile');
    expect(posts(upstream)).toBe(0);

    running.clock.advance(30_000);
    expect((await circuit('gpt-4o-mini')).circuit).toBe('half-open');
    expect((await chat('openai/gpt-4o-mini')).status).toBe(200);
    expect((await circuit('gpt-4o-mini')).circuit).toBe('half-open');
    expect((await chat('openai/gpt-4o-mini')).status).toBe(200);
    expect((await circuit('gpt-4o-mini')).circuit).toBe('closed');
    expect(posts(upstream)).toBe(2);
  });

  it('a failed probe opens the circuit again', async () => {
    upstream.script('gpt-4o', ['server-error', 'server-error', 'server-error', 'server-error']);
    for (let index = 0; index < 3; index++) await chat('openai/gpt-4o');
    expect((await circuit('gpt-4o')).circuit).toBe('open');
    running.clock.advance(30_000);
    expect((await chat('openai/gpt-4o')).status).toBe(502);
    expect((await circuit('gpt-4o')).circuit).toBe('open');
    expect((await chat('openai/gpt-4o')).status).toBe(503);
    running.clock.advance(30_000);
    expect((await chat('openai/gpt-4o')).status).toBe(200);
  });
});

describe('key pools', () => {
  let upstream: Simulator;
  let running: ResilientGateway;

  beforeAll(async () => {
    upstream = await startOpenAISimulator({ apiKey: ['sk-good-1', 'sk-good-2'] });
    running = await startResilientGateway({
      OPENAI_API_KEY: 'sk-revoked-0,sk-good-1,sk-good-2',
      OPENAI_BASE_URL: upstream.baseUrl,
      RETRY_MAX_RETRIES: '0',
      LOGGING_ENABLED: 'true',
      LOGGING_LOG_HEADERS: 'true',
    });
  });

  afterAll(async () => {
    await running?.close();
    await upstream?.close();
  });

  const chat = () => running.post('/v1/chat/completions', { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  const keys = async () => {
    const status = await running.admin('GET', '/providers/status');
    return status.body.data.find((provider: any) => provider.name === 'openai').keys;
  };

  it('takes a key answered with 401 out and serves the call with the next key', async () => {
    // The model list fetched at start already met the revoked key.
    expect((await keys())[0]).toMatchObject({ key: 'key-1', state: 'excluded', reason: 'HTTP 401' });
    for (let index = 0; index < 4; index++) expect((await chat()).status).toBe(200);
    const used = upstream.requests.filter((request) => request.method === 'POST').map((request) => request.headers.authorization);
    expect(new Set(used)).toEqual(new Set(['Bearer sk-good-1', 'Bearer sk-good-2']));
  });

  it('cools a key answered with 429 down for its Retry-After and uses another at once', async () => {
    upstream.script('gpt-4o-mini', ['rate-limited:20']);
    const response = await chat();
    expect(response.status).toBe(200);
    const states = await keys();
    expect(states.filter((key: any) => key.state === 'cooling_down')).toHaveLength(1);
    expect(states.find((key: any) => key.state === 'cooling_down').cool_down_ms).toBeGreaterThan(15_000);
  });

  it('with every key out answers 502 upstream_credentials_exhausted, and refresh puts the keys back', async () => {
    await running.admin('POST', '/runtime/refresh');
    expect((await keys()).every((key: any) => key.state === 'available')).toBe(true);
    upstream.script('gpt-4o-mini', ['unauthorized', 'unauthorized']);
    const response = await chat();
    const body = await response.json();
    expect(response.status).toBe(502);
    expect(body.error.code).toBe('upstream_credentials_exhausted');
    expect((await keys()).every((key: any) => key.state === 'excluded')).toBe(true);
    expect((await chat()).status).toBe(502);

    const refreshed = await running.admin('POST', '/runtime/refresh');
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshed).toBe(true);
    expect((await chat()).status).toBe(200);
  });

  it('never shows a key: not in errors, status, metrics or the audit log', async () => {
    const outputs = [
      JSON.stringify((await running.admin('GET', '/providers/status')).body),
      await (await fetch(`${running.url}/metrics`, { headers: { authorization: 'Bearer mg-resilience' } })).text(),
      JSON.stringify((await running.admin('GET', '/audit/log?limit=100')).body),
    ];
    upstream.script('gpt-4o-mini', ['unauthorized', 'unauthorized', 'unauthorized']);
    outputs.push(await (await chat()).text());
    for (const output of outputs) expect(output).not.toMatch(/sk-(good|revoked)/);
  });
});

describe('visibility', () => {
  let upstream: Simulator;
  let running: ResilientGateway;

  beforeAll(async () => {
    upstream = await startOpenAISimulator({ apiKey: 'sk-upstream' });
    running = await startResilientGateway({
      OPENAI_API_KEY: 'sk-upstream',
      OPENAI_BASE_URL: upstream.baseUrl,
      RETRY_MAX_RETRIES: '2',
      CIRCUIT_BREAKER_FAILURE_THRESHOLD: '5',
      LOGGING_ENABLED: 'true',
    });
  });

  afterAll(async () => {
    await running?.close();
    await upstream?.close();
  });

  it('lists every attempt in the audit record and counts attempts, retries, fallbacks and breaker state in /metrics', async () => {
    upstream.script('gpt-4o', ['server-error']);
    upstream.script('gpt-4o-mini', ['overloaded', 'overloaded', 'overloaded']);
    const response = await running.post(
      '/v1/chat/completions',
      { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
      { 'x-modelgate-fallbacks': 'openai/gpt-4o' },
    );
    expect(response.status).toBe(200);
    const requestId = response.headers.get('x-request-id');
    const log = await running.admin('GET', '/audit/log?limit=10');
    const entry = log.body.data.find((item: any) => item.request_id === requestId) ?? log.body.data[0];
    const detail = await running.admin('GET', `/audit/log/${entry.id}`);
    expect(detail.body.attempts.map((attempt: any) => `${attempt.model}:${attempt.status}`)).toEqual([
      'gpt-4o-mini:503',
      'gpt-4o-mini:503',
      'gpt-4o-mini:503',
      'gpt-4o:502',
      'gpt-4o:200',
    ]);
    const metrics = await (await fetch(`${running.url}/metrics`, { headers: { authorization: 'Bearer mg-resilience' } })).text();
    expect(metrics).toContain('modelgate_upstream_attempts_total{provider="openai",model="gpt-4o-mini",status="503"} 3');
    expect(metrics).toContain('modelgate_retries_total{provider="openai",model="gpt-4o-mini"} 2');
    expect(metrics).toContain('modelgate_retries_total{provider="openai",model="gpt-4o"} 1');
    expect(metrics).toContain('modelgate_fallbacks_total{from="openai/gpt-4o-mini",to="openai/gpt-4o"} 1');
    expect(metrics).toContain('modelgate_circuit_breaker_state{provider="openai",model="gpt-4o"} 0');
  });
});
