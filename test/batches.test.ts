/**
 * `/v1/batches` end to end with the official openai client over the OpenAI simulator (and Azure), on SQLite and
 * PostgreSQL: create from a file or inline requests, aliases and model access per line, list, retrieve, cancel,
 * results JSONL; usage recorded exactly once per item at the batch price, over repeated fetches and a restart.
 */
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemUsageId } from '../src/batches/batch-usage.ts';
import { createPricingTable } from '../src/usage/pricing.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'batches-master-key';

interface UsageRow {
  id: string;
  request_id: string;
  endpoint: string;
  model: string | null;
  status: number;
  input_tokens: number | string;
  output_tokens: number | string;
  cost_usd: number | string | null;
  key_id: string | null;
}

describe.each(['sqlite', 'postgresql'] as const)('batches on %s', (backendName) => {
  let backend: StorageBackend;
  let openai: Simulator;
  let running: RunningGateway;
  let client: OpenAI;

  const env = () => ({
    ...backend.env,
    MODELGATE_MASTER_KEY: masterKey,
    OPENAI_API_KEY: 'sk-batches-upstream',
    OPENAI_BASE_URL: openai.baseUrl,
    MODEL_ALIASES: 'cheap=openai/gpt-4o-mini',
    BATCH_POLL_INTERVAL: '0',
  });

  const usageOf = async (batchId: string): Promise<UsageRow[]> => {
    const storage = running.gateway.storage;
    if (!storage) throw new Error('no storage');
    const rows = await (storage.db as unknown as import('kysely').Kysely<{ usage: UsageRow }>)
      .selectFrom('usage')
      .selectAll()
      .where('request_id', '=', batchId)
      .execute();
    return rows;
  };

  const results = async (batchId: string, key = masterKey) => {
    const response = await fetch(`${running.url}/v1/batches/${batchId}/results`, { headers: { authorization: `Bearer ${key}` } });
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
  };

  /** Retrieves the batch until the simulator has finished it (it runs right after creation, asynchronously). */
  const finished = async (owner: OpenAI, id: string) => {
    for (let tries = 0; tries < 200; tries++) {
      const batch = await owner.batches.retrieve(id);
      if (['completed', 'failed', 'cancelled', 'expired'].includes(batch.status)) return batch;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`batch ${id} did not finish`);
  };

  const line = (customId: string, model: string, text: string) =>
    JSON.stringify({
      custom_id: customId,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model, messages: [{ role: 'user', content: text }] },
    });

  beforeAll(async () => {
    backend = createBackend(backendName);
    openai = await startOpenAISimulator({ apiKey: 'sk-batches-upstream' });
    running = await startGateway(env());
    client = new OpenAI({ apiKey: masterKey, baseURL: `${running.url}/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await running?.close();
    await openai?.close();
    await backend?.cleanup();
  });

  it('runs a batch from an uploaded file and records each item once at the batch price, across fetches and a restart', async () => {
    const input = [
      line('first', 'gpt-4o-mini', 'one two three'),
      line('second', 'cheap', 'four five'),
      line('broken', 'no-such-model', 'x'),
    ].join('\n');
    const file = await client.files.create({ file: await toFile(Buffer.from(input), 'input.jsonl'), purpose: 'batch' });
    const created = await client.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { job: 'nightly' },
    });
    expect(created.id).toMatch(/^batch_mg/);
    expect(created.input_file_id).toBe(file.id);
    expect(created.metadata).toEqual({ job: 'nightly' });

    const done = await finished(client, created.id);
    expect(done.status).toBe('completed');
    expect(done.request_counts).toEqual({ total: 3, completed: 2, failed: 1 });
    expect(done.output_file_id).toMatch(/^file-mg/);
    // The alias was resolved before the provider saw the line.
    const upstreamBatch = [...openai.filesApi.batches.values()].at(-1);
    const upstreamInput = openai.filesApi.files.get(String(upstreamBatch?.input_file_id));
    expect(upstreamInput).toBeDefined();

    const first = await results(created.id);
    expect(first.status).toBe(200);
    expect(first.type).toContain('application/jsonl');
    const lines = first.text
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text) as { custom_id: string; response: { status_code: number; body: { model: string } } });
    expect(lines.map((entry) => entry.custom_id).sort()).toEqual(['broken', 'first', 'second']);
    expect(lines.find((entry) => entry.custom_id === 'second')?.response.body.model).toBe('gpt-4o-mini');
    expect(lines.find((entry) => entry.custom_id === 'broken')?.response.status_code).toBe(404);
    // The output file is a gateway file of the batch's owner.
    const output = await (await client.files.content(String(done.output_file_id))).text();
    expect(output.trim().split('\n')).toHaveLength(2);

    for (let fetches = 0; fetches < 3; fetches++) {
      expect((await results(created.id)).status).toBe(200);
      await client.batches.retrieve(created.id);
    }
    await running.gateway.storage?.db.selectFrom('usage').select('id').execute();
    let rows = await usageOf(created.id);
    expect(rows).toHaveLength(3);
    const firstRow = rows.find((row) => row.id === itemUsageId(created.id, 'first'));
    expect(firstRow).toMatchObject({ endpoint: 'batch', model: 'gpt-4o-mini', status: 200, key_id: expect.stringMatching(/^master:/) });
    // Half the standard price (https://platform.openai.com/docs/guides/batch).
    const standard = createPricingTable().costOf(
      {
        inputTokens: Number(firstRow?.input_tokens),
        outputTokens: Number(firstRow?.output_tokens),
        totalTokens: 0,
        cachedTokens: 0,
        reasoningTokens: 0,
        cacheWriteTokens: 0,
      },
      'gpt-4o-mini',
    );
    expect(Number(firstRow?.input_tokens)).toBe(3);
    expect(Number(firstRow?.cost_usd)).toBeCloseTo((standard ?? 0) / 2, 12);
    expect(rows.find((row) => row.id === itemUsageId(created.id, 'broken'))).toMatchObject({
      status: 404,
      input_tokens: expect.anything(),
    });

    // A restart on the same database: fetching again records nothing more.
    await running.close();
    running = await startGateway(env());
    client = new OpenAI({ apiKey: masterKey, baseURL: `${running.url}/v1`, maxRetries: 0 });
    expect((await results(created.id)).status).toBe(200);
    rows = await usageOf(created.id);
    expect(rows).toHaveLength(3);
  });

  it('takes inline requests (gateway extension), resolves aliases, and refuses a disabled or foreign model with the line number', async () => {
    const created = await client.batches.create({
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      requests: [
        { custom_id: 'a', body: { model: 'cheap', messages: [{ role: 'user', content: 'inline one' }] } },
        { custom_id: 'b', body: { model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'inline two' }] } },
      ],
    } as never);
    expect(created.input_file_id).toBeNull();
    await finished(client, created.id);
    const upstreamBatch = [...openai.filesApi.batches.values()].at(-1);
    const upstreamInput = openai.filesApi.files.get(String(upstreamBatch?.input_file_id));
    const { readFileSync } = await import('node:fs');
    const sent = readFileSync(String(upstreamInput?.path), 'utf8')
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text) as { method: string; url: string; body: { model: string } });
    expect(sent.map((entry) => [entry.method, entry.url, entry.body.model])).toEqual([
      ['POST', '/v1/chat/completions', 'gpt-4o-mini'],
      ['POST', '/v1/chat/completions', 'gpt-4o'],
    ]);
    const text = (await results(created.id)).text;
    expect(text).toContain('inline one');
    expect(await usageOf(created.id)).toHaveLength(2);

    const refused = await fetch(`${running.url}/v1/batches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        endpoint: '/v1/chat/completions',
        requests: [{ custom_id: 'a', body: { model: 'gpt-4o-mini' } }, { custom_id: 'b' }],
      }),
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('Batch line 2');
  });

  it('lists, cancels, keeps batches private to their key, and answers 409 for results of a running batch', async () => {
    const key = (await (
      await fetch(`${running.url}/admin/api/v1/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'batch owner' }),
      })
    ).json()) as { key: string };
    const owner = new OpenAI({ apiKey: key.key, baseURL: `${running.url}/v1`, maxRetries: 0 });
    openai.filesApi.holdBatches();
    try {
      const file = await owner.files.create({
        file: await toFile(Buffer.from(line('x', 'gpt-4o-mini', 'held')), 'held.jsonl'),
        purpose: 'batch',
      });
      const batch = await owner.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      expect((await owner.batches.list()).data.map((entry) => entry.id)).toEqual([batch.id]);
      expect((await client.batches.list()).data.map((entry) => entry.id)).not.toContain(batch.id);
      await expect(client.batches.retrieve(batch.id)).rejects.toMatchObject({ status: 404, error: { code: 'batch_not_found' } });
      expect((await results(batch.id, masterKey)).status).toBe(404);
      // The master key cannot start a batch from another key's file either.
      await expect(
        client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
      ).rejects.toMatchObject({ status: 404 });

      const running409 = await results(batch.id, key.key);
      expect(running409.status).toBe(409);
      expect(JSON.parse(running409.text).error.code).toBe('batch_not_finished');
      const cancelled = await owner.batches.cancel(batch.id);
      expect(cancelled.status).toBe('cancelling');
      expect((await finished(owner, batch.id)).status).toBe('cancelled');
      expect((await results(batch.id, key.key)).text).toBe('');
    } finally {
      await openai.filesApi.releaseBatches();
    }
  });

  it('answers bad batch requests with OpenAI-shaped errors', async () => {
    const post = async (body: unknown) => {
      const response = await fetch(`${running.url}/v1/batches`, {
        method: 'POST',
        headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, error: ((await response.json()) as { error: { code: string; param: string | null } }).error };
    };
    expect(await post({ input_file_id: 'file-x' })).toMatchObject({ status: 400, error: { param: 'endpoint' } });
    expect(await post({ endpoint: '/v1/chat/completions' })).toMatchObject({ status: 400, error: { param: 'input_file_id' } });
    expect(await post({ endpoint: '/v1/chat/completions', input_file_id: 'file-mgnope' })).toMatchObject({
      status: 404,
      error: { code: 'file_not_found' },
    });
    expect(await post({ endpoint: '/v1/chat/completions', requests: 'nope' })).toMatchObject({ status: 400, error: { param: 'requests' } });
    expect(await post({ endpoint: '/v1/chat/completions', requests: [] })).toMatchObject({ status: 400 });
    const notJsonl = await client.files.create({ file: await toFile(Buffer.from('not json\n'), 'bad.jsonl'), purpose: 'batch' });
    expect(await post({ endpoint: '/v1/chat/completions', input_file_id: notJsonl.id })).toMatchObject({
      status: 400,
      error: { code: 'invalid_batch_line' },
    });
    const good = await client.files.create({
      file: await toFile(Buffer.from(line('a', 'gpt-4o-mini', 'x')), 'ok.jsonl'),
      purpose: 'batch',
    });
    // The provider's own refusal comes back with its status and message.
    expect(await post({ endpoint: '/v1/nonsense', input_file_id: good.id })).toMatchObject({ status: 400 });
    await expect(client.batches.retrieve('batch_mgunknown')).rejects.toMatchObject({ status: 404 });
  });
});
