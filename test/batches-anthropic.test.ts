/**
 * `/v1/batches` translated to Anthropic Message Batches, end to end with the official openai client over the
 * Anthropic simulator's Message Batches API (test/simulators/anthropic-message-batches.ts): inline requests and an
 * uploaded input file, aliases and model access per line, retrieve/cancel/expiry mapped to OpenAI's batch object,
 * results as OpenAI output lines, Anthropic's refusals as OpenAI errors, and usage recorded once per item at
 * half the standard price, over repeated fetches and a restart.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemUsageId } from '../src/batches/batch-usage.ts';
import { createPricingTable } from '../src/usage/pricing.ts';
import { batchRequest, createBatchCalls } from './helpers/batch-calls.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type AnthropicSimulator, startAnthropicSimulator } from './simulators/anthropic-simulator.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'anthropic-batches-master';


describe.each(['sqlite', 'postgresql'] as const)('Anthropic batches on %s', (backendName) => {
  let backend: StorageBackend;
  let anthropic: AnthropicSimulator;
  let openai: Simulator;
  let running: RunningGateway;
  let client: OpenAI;

  const env = () => ({
    ...backend.env,
    MODELGATE_MASTER_KEY: masterKey,
    OPENAI_API_KEY: 'sk-openai-files',
    OPENAI_BASE_URL: openai.baseUrl,
    ANTHROPIC_API_KEY: 'sk-ant-batches',
    ANTHROPIC_BASE_URL: anthropic.baseUrl,
    MODEL_ALIASES: 'claude=anthropic/claude-haiku-4-5',
    BATCH_POLL_INTERVAL: '0',
  });
  const { headers, usageOf, results, finished, post } = createBatchCalls(() => ({ running, client }), masterKey);
  const request = batchRequest;

  beforeAll(async () => {
    backend = createBackend(backendName);
    anthropic = await startAnthropicSimulator({ apiKey: 'sk-ant-batches' });
    openai = await startOpenAISimulator({ apiKey: 'sk-openai-files' });
    running = await startGateway(env());
    client = new OpenAI({ apiKey: masterKey, baseURL: `${running.url}/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await running?.close();
    await anthropic?.close();
    await openai?.close();
    await backend?.cleanup();
  });

  it('runs inline requests as a Message Batch, maps it back, and records each item once at half price across fetches and a restart', async () => {
    anthropic.messageBatches.hold();
    const created = await client.batches.create({
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { job: 'nightly' },
      requests: [
        request('first', 'claude', 'one two three', { max_tokens: 50, temperature: 0.2, stream: true }),
        request('second', 'anthropic/claude-sonnet-4-5', 'four five'),
        request('broken', 'anthropic/sim-server-error', 'x'),
      ],
    } as never);
    expect(created.id).toMatch(/^batch_mg/);
    expect(created).toMatchObject({ object: 'batch', endpoint: '/v1/chat/completions', status: 'in_progress', input_file_id: null });
    expect(created.metadata).toEqual({ job: 'nightly' });
    expect(JSON.stringify(created)).not.toContain('gateway_');

    // Anthropic got Messages API params: the alias resolved, the prefix removed, max_tokens set, stream dropped.
    const upstream = [...anthropic.messageBatches.batches.values()].at(-1);
    expect(upstream?.requests.map((entry) => entry.custom_id)).toEqual(['first', 'second', 'broken']);
    expect(upstream?.requests[0]?.params).toMatchObject({
      model: 'claude-haiku-4-5',
      max_tokens: 50,
      temperature: 0.2,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'one two three' }] }],
    });
    expect(upstream?.requests[0]?.params.stream).toBeUndefined();
    expect(upstream?.requests[1]?.params).toMatchObject({ model: 'claude-sonnet-4-5', max_tokens: expect.any(Number) });
    const batchCall = anthropic.requests.find((entry) => entry.path === '/v1/messages/batches');
    expect(batchCall?.headers['x-api-key']).toBe('sk-ant-batches');
    expect(batchCall?.headers['anthropic-version']).toBe('2023-06-01');
    expect(batchCall?.headers.authorization).toBeUndefined();

    const running409 = await results(created.id);
    expect(running409.status).toBe(409);
    expect(JSON.parse(running409.text).error.code).toBe('batch_not_finished');
    await anthropic.messageBatches.release();
    const done = await finished(created.id);
    expect(done.status).toBe('completed');
    expect(done.request_counts).toEqual({ total: 3, completed: 2, failed: 1 });
    expect(done.completed_at).toBeGreaterThanOrEqual(done.created_at);
    expect(done.expires_at).toBe(done.created_at + 24 * 3600);

    const first = await results(created.id);
    expect(first.status).toBe(200);
    expect(first.lines).toHaveLength(3);
    const answer = first.byId.get('first');
    expect(answer?.id).toMatch(/^batch_req_/);
    expect(answer?.error).toBeNull();
    expect(answer?.response?.status_code).toBe(200);
    expect(answer?.response?.body).toMatchObject({
      object: 'chat.completion',
      model: 'claude-haiku-4-5',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from anthropic: one two three' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: expect.any(Number), completion_tokens: 6 },
    });
    expect(first.byId.get('broken')?.response).toMatchObject({
      status_code: 500,
      body: { error: { type: 'api_error', message: 'Internal server error' } },
    });

    for (let fetches = 0; fetches < 3; fetches++) {
      expect((await results(created.id)).status).toBe(200);
      await client.batches.retrieve(created.id);
    }
    let rows = await usageOf(created.id);
    expect(rows).toHaveLength(3);
    const row = rows.find((entry) => entry.id === itemUsageId(created.id, 'first'));
    expect(row).toMatchObject({ model: 'claude-haiku-4-5', provider: 'anthropic', status: 200 });
    expect(Number(row?.output_tokens)).toBe(6);
    const standard = createPricingTable().costOf(
      {
        inputTokens: Number(row?.input_tokens),
        outputTokens: Number(row?.output_tokens),
        totalTokens: 0,
        cachedTokens: 0,
        reasoningTokens: 0,
        cacheWriteTokens: 0,
      },
      'claude-haiku-4-5',
    );
    expect(standard).toBeGreaterThan(0);
    // Half the standard price (https://docs.anthropic.com/en/docs/build-with-claude/batch-processing).
    expect(Number(row?.cost_usd)).toBeCloseTo((standard ?? 0) / 2, 12);
    expect(rows.find((entry) => entry.id === itemUsageId(created.id, 'broken'))).toMatchObject({ status: 500 });

    await running.close();
    running = await startGateway(env());
    client = new OpenAI({ apiKey: masterKey, baseURL: `${running.url}/v1`, maxRetries: 0 });
    expect((await results(created.id)).lines).toHaveLength(3);
    rows = await usageOf(created.id);
    expect(rows).toHaveLength(3);
  });

  it('runs an uploaded input file at Anthropic when its lines name an Anthropic model', async () => {
    const input = [request('a', 'claude', 'from a file'), request('b', 'claude-opus-4-1', 'bare name')]
      .map((line) => JSON.stringify({ ...line, method: 'POST', url: '/v1/chat/completions' }))
      .join('\n');
    const file = await client.files.create({ file: await toFile(Buffer.from(input), 'claude.jsonl'), purpose: 'batch' });
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    expect(created.input_file_id).toBe(file.id);
    const upstream = [...anthropic.messageBatches.batches.values()].at(-1);
    expect(upstream?.requests.map((entry) => entry.params.model)).toEqual(['claude-haiku-4-5', 'claude-opus-4-1']);
    expect(openai.filesApi.batches.size).toBe(0);
    await finished(created.id);
    const { byId } = await results(created.id);
    expect(byId.get('a')?.response?.body).toMatchObject({ choices: [{ message: { content: 'Hello from anthropic: from a file' } }] });
    expect(await usageOf(created.id)).toHaveLength(2);
  });

  it('cancels and expires: requests that never ran come back as batch_cancelled / batch_expired, recorded once without tokens', async () => {
    anthropic.messageBatches.hold();
    try {
      const cancelled = await client.batches.create({
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        requests: [request('c1', 'claude', 'never'), request('c2', 'claude', 'never either')],
      } as never);
      const cancelling = await client.batches.cancel(cancelled.id);
      expect(cancelling.status).toBe('cancelling');
      expect(cancelling.cancelling_at).toEqual(expect.any(Number));
      const ended = await finished(cancelled.id);
      expect(ended).toMatchObject({ status: 'cancelled', request_counts: { total: 2, completed: 0, failed: 2 } });
      const lines = (await results(cancelled.id)).lines;
      expect(lines.map((line) => [line.custom_id, line.response, line.error?.code]).sort()).toEqual([
        ['c1', null, 'batch_cancelled'],
        ['c2', null, 'batch_cancelled'],
      ]);
      const rows = await usageOf(cancelled.id);
      expect(rows.map((row) => [row.status, Number(row.input_tokens), Number(row.cost_usd ?? 0)])).toEqual([
        [499, 0, 0],
        [499, 0, 0],
      ]);

      const expiring = await client.batches.create({
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        requests: [request('e1', 'claude', 'too late')],
      } as never);
      const upstreamId = [...anthropic.messageBatches.batches.keys()].at(-1) ?? '';
      anthropic.messageBatches.expire(upstreamId);
      const expired = await client.batches.retrieve(expiring.id);
      expect(expired.status).toBe('expired');
      expect(expired.expired_at).toEqual(expect.any(Number));
      expect((await results(expiring.id)).lines[0]?.error?.code).toBe('batch_expired');
      expect((await usageOf(expiring.id)).map((row) => row.status)).toEqual([408]);
    } finally {
      await anthropic.messageBatches.release();
    }
  });

  it('refuses bad lines with the line number, and answers Anthropic-side refusals as OpenAI errors', async () => {
    const disable = await fetch(`${running.url}/admin/api/v1/model-overrides`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ provider: 'anthropic', model: 'claude-opus-4-1', enabled: false }),
    });
    expect(disable.status).toBe(200);
    try {
      const disabled = await post({
        endpoint: '/v1/chat/completions',
        requests: [request('ok', 'claude', 'x'), request('no', 'anthropic/claude-opus-4-1', 'x')],
      });
      expect(disabled).toMatchObject({ status: 403, body: { error: { code: 'model_disabled' } } });
      expect(disabled.body.error.message).toContain('Batch line 2');
    } finally {
      await fetch(`${running.url}/admin/api/v1/model-overrides`, {
        method: 'PUT',
        headers,
        body: JSON.stringify({ provider: 'anthropic', model: 'claude-opus-4-1', enabled: true }),
      });
    }
    const badId = await post({ endpoint: '/v1/chat/completions', requests: [request('has space', 'claude', 'x')] });
    expect(badId).toMatchObject({ status: 400, body: { error: { code: 'invalid_batch_line', param: 'requests' } } });
    expect(badId.body.error.message).toContain('Batch line 1');
    const untranslatable = await post({
      endpoint: '/v1/chat/completions',
      requests: [request('a', 'claude', 'x'), { custom_id: 'b', body: { model: 'claude', messages: 'not a list' } }],
    });
    expect(untranslatable).toMatchObject({ status: 400, body: { error: { param: 'requests' } } });
    expect(untranslatable.body.error.message).toContain('Batch line 2');
    expect(await post({ endpoint: '/v1/embeddings', requests: [{ custom_id: 'a', body: { model: 'claude', input: 'x' } }] })).toMatchObject(
      {
        status: 400,
        body: { error: { code: 'unsupported_endpoint', param: 'endpoint' } },
      },
    );
    // Anthropic refuses duplicate custom_ids: its 400 comes back OpenAI-shaped.
    const duplicate = await post({
      endpoint: '/v1/chat/completions',
      requests: [request('d', 'claude', 'x'), request('d', 'claude', 'y')],
    });
    expect(duplicate.status).toBe(400);
    expect(duplicate.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request_error' });
    expect(duplicate.body.error.message).toContain('Duplicate custom_id: d');
    await expect(client.batches.retrieve('batch_mgnothing')).rejects.toMatchObject({ status: 404, error: { code: 'batch_not_found' } });
  });

  it("applies a managed key's model lists to every line and attributes the usage to the key's user and team", async () => {
    const createKey = async (body: Record<string, unknown>) =>
      (
        (await (await fetch(`${running.url}/admin/api/v1/keys`, { method: 'POST', headers, body: JSON.stringify(body) })).json()) as {
          key: string;
        }
      ).key;
    const allowOnlyAlias = await createKey({ name: 'alias only', allowed_models: ['claude'], user: 'ada', team: 'research' });
    const denyTarget = await createKey({ name: 'no haiku', denied_models: ['claude-haiku-4-5'] });
    const postAs = async (key: string, body: unknown) => {
      const response = await fetch(`${running.url}/v1/batches`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as { id: string; error: { code: string; message: string } } };
    };
    const refused = await postAs(allowOnlyAlias, {
      endpoint: '/v1/chat/completions',
      requests: [request('ok', 'claude', 'x'), request('no', 'anthropic/claude-opus-4-1', 'x')],
    });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'model_not_allowed' } } });
    expect(refused.body.error.message).toContain('Batch line 2');
    // An alias cannot lead a key to a model it is denied.
    const viaAlias = await postAs(denyTarget, { endpoint: '/v1/chat/completions', requests: [request('a', 'claude', 'x')] });
    expect(viaAlias).toMatchObject({ status: 403, body: { error: { code: 'model_not_allowed' } } });

    const allowed = await postAs(allowOnlyAlias, { endpoint: '/v1/chat/completions', requests: [request('mine', 'claude', 'attributed')] });
    expect(allowed.status).toBe(200);
    const owner = new OpenAI({ apiKey: allowOnlyAlias, baseURL: `${running.url}/v1`, maxRetries: 0 });
    for (let tries = 0; tries < 200 && (await owner.batches.retrieve(allowed.body.id)).status !== 'completed'; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const rows = (await (
      running.gateway.storage!.db as unknown as import('kysely').Kysely<{
        usage: { request_id: string; key_user: string | null; key_team: string | null };
      }>
    )
      .selectFrom('usage')
      .selectAll()
      .where('request_id', '=', allowed.body.id)
      .execute()) as { key_user: string | null; key_team: string | null }[];
    expect(rows.map((row) => [row.key_user, row.key_team])).toEqual([['ada', 'research']]);
  });

  it('never sends the Anthropic key to a results_url on another origin', async () => {
    const seen: string[] = [];
    const trap = createServer((incoming, response) => {
      seen.push(String(incoming.headers['x-api-key'] ?? 'no key'));
      response.end('{}\n');
    });
    trap.listen(0, '127.0.0.1');
    await once(trap, 'listening');
    anthropic.messageBatches.resultsOrigin = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
    try {
      const created = await client.batches.create({
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
        requests: [request('safe', 'claude', 'kept home')],
      } as never);
      await finished(created.id);
      const { lines } = await results(created.id);
      expect(lines[0]?.response?.body).toMatchObject({ choices: [{ message: { content: 'Hello from anthropic: kept home' } }] });
      expect(seen).toEqual([]);
    } finally {
      anthropic.messageBatches.resultsOrigin = null;
      trap.close();
    }
  });
});
