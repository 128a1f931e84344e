/**
 * Property: for any scripted sequence of upstream failures (seeded; RESILIENCE_SEED replays another
 * seed), with retries and fallbacks on, the client gets either one complete answer from one target or
 * an explicit error (an error body, or an error event after the content that had left), and exactly one
 * outcome record listing every upstream attempt. Circuit breakers stay off here so that every attempt
 * is an upstream request and the two can be counted against each other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ResilientGateway, sseData, startResilientGateway } from './helpers/resilient-gateway.ts';
import { createRandom } from './helpers/seeded-random.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';


const steps = ['ok', 'server-error', 'bad-gateway', 'overloaded', 'rate-limited-ms:10', 'rate-limited:1', 'not-found', 'context-length', 'cut-before-content', 'cut-after-content'];
const targets = [
  { name: 'openai/gpt-4o', model: 'gpt-4o', text: 'Hello from openai: hi' },
  { name: 'openai/gpt-4o-mini', model: 'gpt-4o-mini', text: 'Hello from openai: hi' },
  { name: 'groq/llama-3.3-70b-versatile', model: 'llama-3.3-70b-versatile', text: 'Hello from groq: hi' },
];
const seed = Number(process.env.RESILIENCE_SEED ?? 20261202);
const cases = 30;

describe(`resilience property (seed ${seed})`, () => {
  let openai: Simulator;
  let groq: Simulator;
  let running: ResilientGateway;

  beforeAll(async () => {
    openai = await startOpenAISimulator({ apiKey: 'sk-openai' });
    groq = await startOpenAISimulator({ apiKey: 'sk-groq', flavor: 'groq', models: ['llama-3.3-70b-versatile'] });
    running = await startResilientGateway({
      OPENAI_API_KEY: 'sk-openai',
      OPENAI_BASE_URL: openai.baseUrl,
      GROQ_API_KEY: 'sk-groq',
      GROQ_BASE_URL: groq.baseUrl,
      RETRY_MAX_RETRIES: '2',
      MODEL_FALLBACKS: JSON.stringify({ 'openai/gpt-4o': ['openai/gpt-4o-mini', 'groq/llama-3.3-70b-versatile'] }),
    });
  });

  afterAll(async () => {
    await running?.close();
    await openai?.close();
    await groq?.close();
  });

  it('answers completely from one target or fails explicitly, with one outcome listing every attempt', async () => {
    const random = createRandom(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    for (let index = 0; index < cases; index++) {
      const scripts = targets.map(() => Array.from({ length: Math.floor(random() * 4) }, () => pick(steps)));
      const stream = random() < 0.5;
      const label = `case ${index}: stream=${stream} ${JSON.stringify(scripts)}`;
      openai.script('gpt-4o', scripts[0] as string[]);
      openai.script('gpt-4o-mini', scripts[1] as string[]);
      groq.script('llama-3.3-70b-versatile', scripts[2] as string[]);
      openai.requests.length = 0;
      groq.requests.length = 0;
      running.outcomes.length = 0;
      running.clock.reset();

      const response = await running.post('/v1/chat/completions', { model: 'openai/gpt-4o', stream, messages: [{ role: 'user', content: 'hi' }] });
      const text = await response.text();
      await expect.poll(() => running.outcomes.length, { message: label }).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(running.outcomes, label).toHaveLength(1);
      const outcome = running.outcomes[0];
      if (!outcome) throw new Error(label);
      const upstreamRequests = [...openai.requests, ...groq.requests].filter((request) => request.method === 'POST').length;
      expect(outcome.attempts, label).toHaveLength(upstreamRequests);
      const last = outcome.attempts.at(-1);

      if (response.status !== 200) {
        expect(JSON.parse(text).error.code, label).toEqual(expect.any(String));
        expect(outcome.error, label).not.toBeNull();
        expect(outcome.status, label).toBe(response.status);
        continue;
      }
      const served = targets.find((target) => target.model === last?.model);
      expect(served, label).toBeDefined();
      if (!stream) {
        expect(JSON.parse(text).choices[0].message.content, label).toBe(served?.text);
        expect(outcome, label).toMatchObject({ status: 200, error: null, model: served?.model });
        continue;
      }
      const data = sseData(text);
      const chunks = data.filter((item) => item !== '[DONE]').map((item) => JSON.parse(item));
      const content = chunks.filter((chunk) => chunk.choices).map((chunk) => chunk.choices[0]?.delta?.content ?? '');
      expect(new Set(chunks.filter((chunk) => chunk.model).map((chunk) => chunk.model)), label).toEqual(new Set([served?.model]));
      if (data.at(-1) === '[DONE]') {
        expect(content.join(''), label).toBe(served?.text);
        expect(outcome, label).toMatchObject({ status: 200, error: null });
      } else {
        expect(chunks.at(-1)?.error, label).toBeDefined();
        expect(outcome.error, label).not.toBeNull();
      }
    }
  });
});
