/** Prometheus metrics fed by call outcomes. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMetricsExtension } from '../src/metrics/metrics-extension.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

let simulator: Simulator;
let running: RunningGateway;

beforeAll(async () => {
  simulator = await startOpenAISimulator({ apiKey: 'sk-metrics' });
  running = await startGateway(
    { OPENAI_API_KEY: 'sk-metrics', OPENAI_BASE_URL: simulator.baseUrl, MODELGATE_MASTER_KEY: 'mg-metrics' },
    { extensions: [createMetricsExtension()] },
  );
});

afterAll(async () => {
  await running?.close();
  await simulator?.close();
});

it('counts requests, tokens and latency per provider and model, behind the master key', async () => {
  for (const stream of [false, true]) {
    const response = await fetch(`${running.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer mg-metrics', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: 'one two three' }] }),
    });
    await response.text();
  }
  expect((await fetch(`${running.url}/metrics`)).status).toBe(401);
  const text = await (await fetch(`${running.url}/metrics`, { headers: { authorization: 'Bearer mg-metrics' } })).text();
  expect(text).toContain('modelgate_requests_total{endpoint="chat.completions",provider="openai",model="gpt-4o-mini",status="200"} 2');
  expect(text).toContain('modelgate_tokens_total{provider="openai",model="gpt-4o-mini",kind="input"} 6');
  expect(text).toMatch(/modelgate_request_duration_seconds_count\{endpoint="chat.completions",provider="openai",model="gpt-4o-mini",stream="true"\} 1/);
  expect(text).toContain('modelgate_stream_first_byte_seconds_count');
  expect(text).not.toContain('sk-metrics');
});
