/**
 * `/v1/batches` translated to the Gemini Batch API (inline requests), end to end with the official openai client
 * over the Gemini simulator's Batch API (test/simulators/gemini-batches-simulator.ts): aliases and model access
 * per line, the operation mapped to OpenAI's batch object while pending, running, done, cancelled and expired,
 * inlined responses as OpenAI output lines, Google-side errors as OpenAI errors, and usage recorded once per
 * item at half the standard price over repeated fetches and a restart.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemUsageId } from '../src/batches/batch-usage.ts';
import { createPricingTable } from '../src/usage/pricing.ts';
import { batchRequest, createBatchCalls } from './helpers/batch-calls.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type GeminiSimulator, startGeminiSimulator } from './simulators/gemini-simulator.ts';

const masterKey = 'gemini-batches-master';


describe.each(['sqlite', 'postgresql'] as const)('Gemini batches on %s', (backendName) => {
  let backend: StorageBackend;
  let gemini: GeminiSimulator;
  let running: RunningGateway;
  let client: OpenAI;

  const env = () => ({
    ...backend.env,
    MODELGATE_MASTER_KEY: masterKey,
    GEMINI_API_KEY: 'gem-batches',
    GEMINI_BASE_URL: gemini.baseUrl,
    MODEL_ALIASES: 'flash=gemini/gemini-2.5-flash',
    BATCH_POLL_INTERVAL: '0',
  });
  const { usageOf, results, finished, post } = createBatchCalls(() => ({ running, client }), masterKey);
  const request = batchRequest;
  const lastUpstream = () => [...gemini.batches.batches.values()].at(-1);

  beforeAll(async () => {
    backend = createBackend(backendName);
    gemini = await startGeminiSimulator({ apiKey: 'gem-batches' });
    running = await startGateway(env());
    client = new OpenAI({ apiKey: masterKey, baseURL: `${running.url}/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await running?.close();
    await gemini?.close();
    await backend?.cleanup();
  });

  it('runs inline requests as a Gemini batch, maps it back, and records each item once at half price across fetches and a restart', async () => {
    gemini.batches.hold();
    const created = await client.batches.create({
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { job: 'gemini-nightly' },
      requests: [
        request('first', 'flash', 'one two three', { max_tokens: 40, temperature: 0.3, stream: true }),
        request('second', 'gemini/gemini-2.5-flash', 'four five', {
          messages: [
            { role: 'system', content: 'Be brief' },
            { role: 'user', content: 'four five' },
          ],
        }),
      ],
    } as never);
    expect(created.id).toMatch(/^batch_mg/);
    expect(created).toMatchObject({ object: 'batch', status: 'validating', input_file_id: null, metadata: { job: 'gemini-nightly' } });
    expect(JSON.stringify(created)).not.toContain('gateway_');

    const upstream = lastUpstream();
    expect(upstream?.model).toBe('gemini-2.5-flash');
    expect(upstream?.requests.map((entry) => entry.metadata?.key)).toEqual(['first', 'second']);
    expect(upstream?.requests[0]?.request).toMatchObject({
      contents: [{ role: 'user', parts: [{ text: 'one two three' }] }],
      generationConfig: { maxOutputTokens: 40, temperature: 0.3 },
    });
    expect(upstream?.requests[1]?.request).toMatchObject({ systemInstruction: { parts: [{ text: 'Be brief' }] } });
    const call = gemini.requests.find((entry) => entry.action === 'batchGenerateContent');
    expect(call?.headers['x-goog-api-key']).toBe('gem-batches');
    expect(call?.query.get('key')).toBeNull();

    const running409 = await results(created.id);
    expect(running409.status).toBe(409);
    await gemini.batches.release();
    const done = await finished(created.id);
    expect(done.status).toBe('completed');
    expect(done.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
    expect(done.completed_at).toBeGreaterThanOrEqual(done.created_at);

    const first = await results(created.id);
    expect(first.lines).toHaveLength(2);
    expect(first.byId.get('first')?.response).toMatchObject({
      status_code: 200,
      request_id: expect.stringMatching(/^simResp/),
      body: {
        object: 'chat.completion',
        model: 'gemini-2.5-flash',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from gemini: one two three' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) },
      },
    });
    for (let fetches = 0; fetches < 3; fetches++) {
      expect((await results(created.id)).status).toBe(200);
      await client.batches.retrieve(created.id);
    }
    let rows = await usageOf(created.id);
    expect(rows).toHaveLength(2);
    const row = rows.find((entry) => entry.id === itemUsageId(created.id, 'first'));
    expect(row).toMatchObject({ model: 'gemini-2.5-flash', provider: 'gemini', status: 200 });
    const standard = createPricingTable().costOf(
      {
        inputTokens: Number(row?.input_tokens),
        outputTokens: Number(row?.output_tokens),
        totalTokens: 0,
        cachedTokens: 0,
        reasoningTokens: 0,
        cacheWriteTokens: 0,
      },
      'gemini-2.5-flash',
    );
    expect(standard).toBeGreaterThan(0);
    // Half the standard price (https://ai.google.dev/gemini-api/docs/batch-mode).
    expect(Number(row?.cost_usd)).toBeCloseTo((standard ?? 0) / 2, 12);

    await running.close();
    running = await startGateway(env());
    client = new OpenAI({ apiKey: masterKey, baseURL: `${running.url}/v1`, maxRetries: 0 });
    expect((await results(created.id)).lines).toHaveLength(2);
    rows = await usageOf(created.id);
    expect(rows).toHaveLength(2);
  });

  it('maps per-request failures to OpenAI error bodies and records them once', async () => {
    // The model of a Gemini batch is in its URL: one model per batch, so the failing requests share it.
    const created = await client.batches.create({
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      requests: [request('bad1', 'gemini/gemini-sim-server-error', 'x'), request('bad2', 'gemini/gemini-sim-server-error', 'y')],
    } as never);
    const done = await finished(created.id);
    expect(done).toMatchObject({ status: 'completed', request_counts: { total: 2, completed: 0, failed: 2 } });
    const line = (await results(created.id)).byId.get('bad1');
    expect(line?.response).toMatchObject({ status_code: 500, body: { error: { type: 'api_error', code: 'internal' } } });
    expect((await usageOf(created.id)).map((row) => row.status)).toEqual([500, 500]);
  });

  it('cancels and expires', async () => {
    gemini.batches.hold();
    try {
      const created = await client.batches.create({
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        requests: [request('c1', 'flash', 'never')],
      } as never);
      const cancelling = await client.batches.cancel(created.id);
      expect(['cancelling', 'cancelled']).toContain(cancelling.status);
      const ended = await finished(created.id);
      expect(ended.status).toBe('cancelled');
      expect(ended.cancelled_at).toEqual(expect.any(Number));
      expect((await results(created.id)).lines).toEqual([]);

      const expiring = await client.batches.create({
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        requests: [request('e1', 'flash', 'too late')],
      } as never);
      gemini.batches.expire(String(lastUpstream()?.operation.name));
      const expired = await client.batches.retrieve(expiring.id);
      expect(expired.status).toBe('expired');
      expect(expired.expired_at).toEqual(expect.any(Number));
    } finally {
      await gemini.batches.release();
    }
  });

  it('refuses lines Gemini cannot take, with the line number, and answers Google-side refusals as OpenAI errors', async () => {
    const mixed = await post({
      endpoint: '/v1/chat/completions',
      requests: [request('a', 'flash', 'x'), request('b', 'gemini/gemini-2.5-pro', 'y')],
    });
    expect(mixed).toMatchObject({ status: 400, body: { error: { code: 'invalid_batch_line', param: 'requests' } } });
    expect(mixed.body.error.message).toContain('Batch line 2');
    const empty = await post({ endpoint: '/v1/chat/completions', requests: [{ custom_id: 'a', body: { model: 'flash', messages: [] } }] });
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toContain('Batch line 1');
    expect(await post({ endpoint: '/v1/embeddings', requests: [{ custom_id: 'a', body: { model: 'flash', input: 'x' } }] })).toMatchObject({
      status: 400,
      body: { error: { code: 'unsupported_endpoint' } },
    });
    // A batch Gemini no longer knows: Google's 404 NOT_FOUND comes back OpenAI-shaped with Google's message.
    gemini.batches.hold();
    try {
      const ok = await client.batches.create({
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        requests: [request('z', 'flash', 'x')],
      } as never);
      gemini.batches.batches.delete(String(lastUpstream()?.operation.name));
      await expect(client.batches.retrieve(ok.id)).rejects.toMatchObject({
        status: 404,
        error: { message: expect.stringContaining('Requested entity was not found') },
      });
    } finally {
      await gemini.batches.release();
    }
  });
});
