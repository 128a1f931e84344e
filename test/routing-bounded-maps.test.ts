/**
 * Hostile model names cannot grow routing state (issue 8): a client may name any model behind a
 * provider (`openai/<anything>`), and each name used to leave a circuit breaker behind for good. The
 * breakers and the per-target routing statistics are LRUs: thousands of distinct names leave them at
 * their cap, a breaker in use (an open circuit of a failing model) stays, and the gateway keeps serving.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultExtensions } from '../src/extensions.ts';
import { createCircuitBreakers, defaultMaxBreakers } from '../src/routing/circuit-breakers.ts';
import { createSystemClock } from '../src/routing/clock.ts';
import { createTargetStats } from '../src/routing/target-stats.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'mg-bounded-maps-key';
const cap = 40;
let simulator: Simulator;
let running: RunningGateway;

beforeAll(async () => {
  simulator = await startOpenAISimulator({ apiKey: 'sk-bounded-upstream' });
  const logger = pino({ level: 'silent' });
  running = await startGateway(
    {
      MODELGATE_MASTER_KEY: masterKey,
      OPENAI_API_KEY: 'sk-bounded-upstream',
      OPENAI_BASE_URL: simulator.baseUrl,
      SQLITE_PATH: ':memory:',
      CIRCUIT_BREAKER_FAILURE_THRESHOLD: '2',
      CIRCUIT_BREAKER_TIMEOUT: '60s',
    },
    { extensions: defaultExtensions(logger, { resilience: { maxCircuitBreakers: cap } }) },
  );
});

afterAll(async () => {
  await running?.close();
  await simulator?.close();
});

async function chat(model: string): Promise<number> {
  const response = await fetch(`${running.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await response.arrayBuffer();
  return response.status;
}

describe('circuit breakers under random model names', () => {
  it('keeps at most the cap of breakers through the gateway, the open circuit of a failing model included', async () => {
    const breakers = running.gateway.breakers;
    if (!breakers) throw new Error('circuit breakers are on with CIRCUIT_BREAKER_FAILURE_THRESHOLD=2');
    // A failing model trips its circuit.
    expect(await chat('openai/sim-server-error')).toBe(502);
    expect(await chat('openai/sim-server-error')).toBe(502);
    expect(await chat('openai/sim-server-error')).toBe(503);
    for (let round = 0; round < 10; round++) {
      // Twenty distinct names a round, 200 in all, five times the cap.
      await Promise.all(
        Array.from({ length: 20 }, (_unused, index) => chat(`openai/random-${round}-${index}-${Math.random().toString(36).slice(2)}`)),
      );
      expect(breakers.size()).toBeLessThanOrEqual(cap);
      // The failing model is still called (and refused) between the floods: its breaker stays recent and open.
      expect(await chat('openai/sim-server-error')).toBe(503);
    }
    expect(breakers.size()).toBe(cap);
    expect(
      breakers
        .all()
        .find((breaker) => breaker.model === 'sim-server-error')
        ?.state(),
    ).toBe('open');
    // And the gateway serves as before.
    expect(await chat('gpt-4o-mini')).toBe(200);
    const status = await fetch(`${running.url}/admin/api/v1/providers/status`, { headers: { authorization: `Bearer ${masterKey}` } });
    expect(status.status).toBe(200);
  }, 60_000);

  it('defaults to a cap of 4,096 targets', () => {
    const settings = { failureThreshold: 5, successThreshold: 2, timeoutMs: 30_000 };
    const breakers = createCircuitBreakers(settings, {}, createSystemClock());
    for (let index = 0; index < 10_000; index++) breakers.get('openai', `hostile-${index}`);
    expect(breakers.size()).toBe(defaultMaxBreakers);
    expect(defaultMaxBreakers).toBe(4_096);
    // The newest names are the ones kept.
    expect(breakers.all().some((breaker) => breaker.model === 'hostile-9999')).toBe(true);
    expect(breakers.all().some((breaker) => breaker.model === 'hostile-0')).toBe(false);
  });
});

describe('routing statistics under many target names', () => {
  it('keeps at most the cap of targets, least recently used forgotten first', () => {
    const stats = createTargetStats(100);
    stats.begin('kept');
    for (let index = 0; index < 5_000; index++) {
      stats.begin(`target-${index}`);
      stats.end(`target-${index}`, 10);
      if (index % 50 === 0) {
        stats.end('kept', 5);
        stats.begin('kept');
      }
    }
    expect(stats.size()).toBe(100);
    expect(Object.keys(stats.snapshot())).toHaveLength(100);
    expect(stats.latency('kept')).toBe(5);
    expect(stats.latency('target-0')).toBeUndefined();
    expect(createTargetStats().size()).toBe(0);
  });
});
