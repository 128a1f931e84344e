/**
 * The pipeline: stages run in the order of src/pipeline/stage-order.ts whatever the order they were
 * registered in, absent stages are not on the path, a stage may answer, retry or wrap, and every
 * inbound API reaches providers only through it.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallOutcome } from '../src/core/outcome.ts';
import type { GatewayRequest } from '../src/http/types.ts';
import { createModelCall, type ModelCall } from '../src/pipeline/model-call.ts';
import { createPipeline } from '../src/pipeline/pipeline.ts';
import type { Stage } from '../src/pipeline/stage.ts';
import type { JsonResult, ProviderResult } from '../src/providers/types.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

function fakeRequest(): GatewayRequest {
  return {
    requestId: 'req-1',
    method: 'POST',
    path: '/v1/chat/completions',
    headers: {},
    body: {},
    params: {},
    query: {},
    signal: new AbortController().signal,
    keyId: null,
    startedAt: performance.now(),
  };
}

function call(): ModelCall {
  return createModelCall(fakeRequest(), {
    endpoint: 'chat.completions',
    requestedModel: 'm',
    body: { model: 'm' },
    stream: false,
    operations: ['chat'],
    prepare: (target) => ({ model: target.model }),
  });
}

const answer = (text: string): JsonResult => ({ kind: 'json', status: 200, body: { text }, headers: {}, usage: null });

describe('pipeline composition', () => {
  it('runs stages in the fixed order, not the registration order, and ends in the terminal', async () => {
    const seen: string[] = [];
    const pipeline = createPipeline(async () => {
      seen.push('dispatch');
      return answer('done');
    });
    const marker = (name: string): Stage => ({
      name,
      handle: (modelCall, next) => {
        seen.push(name);
        return next(modelCall);
      },
    });
    pipeline.use(marker('retry'));
    pipeline.use(marker('cache'));
    pipeline.use(marker('alias'));
    expect(pipeline.stageNames()).toEqual(['cache', 'alias', 'retry']);
    await pipeline.run(call());
    expect(seen).toEqual(['cache', 'alias', 'retry', 'dispatch']);
  });

  it('lets a stage answer without calling next, or call next several times', async () => {
    let dispatched = 0;
    const pipeline = createPipeline(async () => {
      dispatched += 1;
      if (dispatched < 3) throw new Error(`failure ${dispatched}`);
      return answer(`attempt ${dispatched}`);
    });
    pipeline.use({
      name: 'retry',
      async handle(modelCall, next) {
        for (;;) {
          try {
            return await next(modelCall);
          } catch {
            // try again
          }
        }
      },
    });
    const result = (await pipeline.run(call())) as JsonResult;
    expect(result.body).toEqual({ text: 'attempt 3' });

    const answering = createPipeline(async () => {
      throw new Error('must not be reached');
    });
    answering.use({ name: 'cache', handle: async () => answer('from cache') });
    expect(((await answering.run(call())) as JsonResult).body).toEqual({ text: 'from cache' });
  });

  it('refuses unknown stage names, duplicates and registration after start', async () => {
    const pipeline = createPipeline(async () => answer('x'));
    expect(() => pipeline.use({ name: 'no-such-stage', handle: (modelCall, next) => next(modelCall) })).toThrow(/unknown pipeline stage/);
    pipeline.use({ name: 'cache', handle: (modelCall, next) => next(modelCall) });
    expect(() => pipeline.use({ name: 'cache', handle: (modelCall, next) => next(modelCall) })).toThrow(/twice/);
    await pipeline.run(call());
    expect(() => pipeline.use({ name: 'retry', handle: (modelCall, next) => next(modelCall) })).toThrow(/after the pipeline started/);
  });
});

describe('every inbound API goes through the pipeline', () => {
  let upstream: Simulator;
  let running: RunningGateway;
  const seen: { endpoint: string; model: string; target: string | null }[] = [];
  const outcomes: CallOutcome[] = [];

  beforeAll(async () => {
    upstream = await startOpenAISimulator({ apiKey: 'sk-upstream' });
    running = await startGateway(
      { OPENAI_API_KEY: 'sk-upstream', OPENAI_BASE_URL: upstream.baseUrl, MODELGATE_MASTER_KEY: 'mg-pipeline' },
      {
        extensions: [
          ...(await import('../src/extensions.ts')).defaultExtensions((await import('pino')).pino({ level: 'silent' })),
          (gateway) => {
            gateway.pipeline.use({
              name: 'guardrails-output',
              async handle(modelCall, next): Promise<ProviderResult> {
                const result = await next(modelCall);
                seen.push({ endpoint: modelCall.endpoint, model: modelCall.requestedModel, target: modelCall.target?.model ?? null });
                return result;
              },
            });
            gateway.bus.subscribe((outcome) => outcomes.push(outcome));
          },
        ],
      },
    );
  });

  afterAll(async () => {
    await running?.close();
    await upstream?.close();
  });

  it('chat, embeddings, Responses and Messages each pass the stage once, with the attempt recorded', async () => {
    const client = new OpenAI({ apiKey: 'mg-pipeline', baseURL: `${running.url}/v1`, maxRetries: 0 });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    await client.embeddings.create({ model: 'text-embedding-3-small', input: 'hi' });
    await client.responses.create({ model: 'gpt-4o-mini', input: 'hi' });
    const messages = await fetch(`${running.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'mg-pipeline', 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(messages.status).toBe(200);
    expect(seen.map((entry) => entry.endpoint)).toEqual(['chat.completions', 'embeddings', 'responses', 'messages']);
    expect(seen.every((entry) => entry.target === entry.model)).toBe(true);
    for (const outcome of outcomes) {
      expect(outcome.attempts).toHaveLength(1);
      expect(outcome.attempts[0]).toMatchObject({ provider: 'openai', status: 200, error: null });
    }
    expect(outcomes.find((outcome) => outcome.endpoint === 'responses')?.attempts[0]?.operation).toBe('responses');
  });

  it('records a failed attempt and no served target when the upstream refuses', async () => {
    const client = new OpenAI({ apiKey: 'mg-pipeline', baseURL: `${running.url}/v1`, maxRetries: 0 });
    outcomes.length = 0;
    await expect(client.chat.completions.create({ model: 'openai/no-such-model', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({
      status: 404,
    });
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ provider: 'openai', model: 'no-such-model', status: 404 });
    expect(outcomes[0]?.attempts).toEqual([expect.objectContaining({ provider: 'openai', status: 404, error: 'model_not_found' })]);
  });
});
