// biome-ignore-all lint/suspicious/noExplicitAny: admin API JSON bodies are checked field by field with expect()
/**
 * Usage records, audit log and admin API through the real gateway, on SQLite and on the real
 * PostgreSQL server, with the OpenAI simulator upstream and the official openai SDK as client.
 */
import OpenAI from 'openai';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecordsExtensions } from '../src/admin/records-extension.ts';
import { createStorage, type Storage } from '../src/storage/database.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { countTokens, type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const upstreamKey = 'sk-upstream-SECRET-4f9a2c71e0';
const masterKey = 'mg-master-SECRET-8b3d5e2a61';
const secrets = [
  upstreamKey,
  masterKey,
  'goog-SECRET-77aa',
  'azure-SECRET-99bb',
  'cookie-SECRET-55cc',
  'xkey-SECRET-33dd',
  'query-SECRET-11ee',
];

/** What the simulator reports for one user message (see openai-simulator.ts: words in, reply pieces out). */
function simulatorUsage(content: string): { prompt: number; completion: number } {
  return { prompt: countTokens(content), completion: `Hello from openai: ${content}`.split(/(?<= )/).length };
}

const logger = pino({ level: 'silent' });

describe.each(['sqlite', 'postgresql'] as const)('records and admin API on %s', (backendName) => {
  let backend: StorageBackend;
  let simulator: Simulator;
  let running: RunningGateway;
  let client: OpenAI;
  let env: Record<string, string>;

  const admin = async (path: string, key: string | null = masterKey): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${running.url}/admin/api/v1${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    return { status: response.status, body: await response.json() };
  };

  beforeAll(async () => {
    backend = createBackend(backendName);
    simulator = await startOpenAISimulator({
      apiKey: upstreamKey,
      models: ['gpt-4o-mini', 'burst-model', 'thread-model', 'text-embedding-3-small', 'sim-server-error'],
    });
    env = {
      ...backend.env,
      OPENAI_API_KEY: upstreamKey,
      OPENAI_BASE_URL: simulator.baseUrl,
      MODELGATE_MASTER_KEY: masterKey,
      LOGGING_ENABLED: 'true',
      LOGGING_LOG_BODIES: 'true',
      LOGGING_LOG_HEADERS: 'true',
    };
    running = await startGateway(env, { extensions: createRecordsExtensions(logger) });
    client = new OpenAI({ apiKey: masterKey, baseURL: `${running.url}/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await running?.close();
    await simulator?.close();
    await backend?.cleanup();
  });

  it('records a burst of 50 concurrent streams with exactly the simulator usage', async () => {
    const contents = Array.from({ length: 50 }, (_unused, index) => `burst ${index} ${'word '.repeat(index % 7)}end`.trim());
    const results = await Promise.all(
      contents.map(async (content, index) => {
        const stream = await client.chat.completions.create({
          model: 'burst-model',
          messages: [{ role: 'user', content }],
          stream: true,
          ...(index % 2 === 0 ? { stream_options: { include_usage: true } } : {}),
        });
        let text = '';
        let usage: OpenAI.CompletionUsage | null = null;
        let usageChunks = 0;
        for await (const chunk of stream) {
          text += chunk.choices[0]?.delta.content ?? '';
          if (chunk.usage) {
            usage = chunk.usage;
            usageChunks += 1;
          }
        }
        return { text, usage, usageChunks };
      }),
    );
    let prompt = 0;
    let completion = 0;
    contents.forEach((content, index) => {
      const expected = simulatorUsage(content);
      prompt += expected.prompt;
      completion += expected.completion;
      const result = results[index];
      expect(result?.text).toBe(`Hello from openai: ${content}`);
      // The usage chunk reaches only the clients that asked for it.
      if (index % 2 === 0) expect(result?.usage).toMatchObject({ prompt_tokens: expected.prompt, completion_tokens: expected.completion });
      else expect(result?.usageChunks).toBe(0);
    });
    // Every upstream request asked for usage, whether or not the client did.
    const upstream = simulator.requests.filter((request) => request.body?.model === 'burst-model');
    expect(upstream).toHaveLength(50);
    for (const request of upstream) expect(request.body?.stream_options).toEqual({ include_usage: true });

    const summary = await admin('/usage/summary?model=burst-model');
    expect(summary.status).toBe(200);
    expect(summary.body).toMatchObject({
      requests: 50,
      input_tokens: prompt,
      output_tokens: completion,
      total_tokens: prompt + completion,
      unpriced_requests: 50,
      error_requests: 0,
      cost_usd: 0,
    });
    const log = await admin('/usage/log?model=burst-model&limit=500');
    expect(log.body.total).toBe(50);
    for (const record of log.body.data) {
      expect(record).toMatchObject({
        endpoint: 'chat.completions',
        provider: 'openai',
        provider_type: 'openai',
        stream: true,
        status: 200,
        priced: false,
        cost_usd: null,
      });
      expect(record.key_id).toMatch(/^master:/);
    }
    const audit = await admin('/audit/log?model=burst-model&limit=500');
    expect(audit.body.total).toBe(50);
    // Streamed bodies are reassembled into one chat.completion object.
    const entry = audit.body.data.find((item: any) => item.request_body?.messages?.[0]?.content === contents[3]);
    expect(entry.response_body).toMatchObject({
      object: 'chat.completion',
      choices: [{ message: { content: `Hello from openai: ${contents[3]}` } }],
    });
  });

  it('prices known models, and records embeddings and failures', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'price this call please' }],
    });
    await client.embeddings.create({ model: 'text-embedding-3-small', input: ['one two three', 'four'] });
    await expect(
      client.chat.completions.create({ model: 'sim-server-error', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toThrow();

    const records = (await admin(`/usage/log?request_id=${completion._request_id}`)).body.data;
    expect(records).toHaveLength(1);
    const usage = completion.usage;
    const expectedCost = ((usage?.prompt_tokens ?? 0) * 0.15 + (usage?.completion_tokens ?? 0) * 0.6) / 1_000_000;
    expect(records[0].priced).toBe(true);
    expect(records[0].cost_usd).toBeCloseTo(expectedCost, 12);
    expect(records[0].input_tokens).toBe(usage?.prompt_tokens);

    const embeddings = (await admin('/usage/log?endpoint=embeddings')).body.data;
    expect(embeddings).toHaveLength(1);
    expect(embeddings[0]).toMatchObject({ input_tokens: 4, output_tokens: 0, priced: true });
    expect(embeddings[0].cost_usd).toBeCloseTo((4 * 0.02) / 1_000_000, 15);

    const failures = (await admin('/usage/log?model=sim-server-error')).body;
    expect(failures.total).toBe(1);
    expect(failures.data[0]).toMatchObject({ status: 502, input_tokens: 0, priced: false, cost_usd: null });
    const errorsOnly = (await admin('/audit/log?errors_only=true')).body;
    expect(errorsOnly.data.map((item: any) => item.model)).toContain('sim-server-error');
    expect(errorsOnly.data.every((item: any) => item.status >= 400)).toBe(true);

    const byModel = (await admin('/usage/models')).body.data;
    const mini = byModel.find((row: any) => row.model === 'gpt-4o-mini');
    expect(mini).toMatchObject({ provider: 'openai', provider_type: 'openai', requests: 1 });
    const byProvider = (await admin('/usage/providers')).body.data;
    const summary = (await admin('/usage/summary')).body;
    expect(byProvider).toHaveLength(1);
    expect(byProvider[0]).toMatchObject({ provider: 'openai', requests: summary.requests, total_tokens: summary.total_tokens });
    expect(byProvider[0].cost_usd).toBeCloseTo(summary.cost_usd, 12);
  });

  it('paginates and filters the usage and audit logs, and folds days into weeks and months', async () => {
    const all = (await admin('/usage/log?limit=500')).body;
    expect(all.total).toBeGreaterThanOrEqual(53);
    const first = (await admin('/usage/log?limit=10&offset=0')).body;
    const second = (await admin('/usage/log?limit=10&offset=10')).body;
    expect(first.data).toHaveLength(10);
    expect(second.data).toHaveLength(10);
    expect(first.total).toBe(all.total);
    const ids = new Set([...first.data, ...second.data].map((record: any) => record.id));
    expect(ids.size).toBe(20);
    expect(first.data.map((record: any) => record.id)).toEqual(all.data.slice(0, 10).map((record: any) => record.id));
    const times = all.data.map((record: any) => record.created_at);
    expect([...times].sort().reverse()).toEqual(times);

    const streamed = (await admin('/audit/log?stream=true&limit=1')).body;
    expect(streamed.total).toBe(50);
    expect(streamed.data).toHaveLength(1);
    const byPath = (await admin('/audit/log?path=/v1/embeddings')).body;
    expect(byPath.total).toBe(1);
    expect((await admin('/audit/log?status=502')).body.total).toBe(1);

    const summary = (await admin('/usage/summary')).body;
    const daily = (await admin('/usage/daily')).body;
    const weekly = (await admin('/usage/weekly')).body;
    const monthly = (await admin('/usage/monthly')).body;
    for (const series of [daily, weekly, monthly]) {
      expect(series.data.reduce((sum: number, row: any) => sum + row.total_tokens, 0)).toBe(summary.total_tokens);
      expect(series.data.reduce((sum: number, row: any) => sum + row.requests, 0)).toBe(summary.requests);
    }
    expect(monthly.data[0].period).toMatch(/^\d{4}-\d{2}$/);
    expect((await admin('/usage/daily?interval=month')).body.data).toEqual(monthly.data);
    const past = (await admin('/usage/summary?start_date=2001-01-01&end_date=2001-01-31')).body;
    expect(past).toMatchObject({ requests: 0, total_tokens: 0, cost_usd: 0 });

    expect((await admin('/usage/log?limit=0')).status).toBe(400);
    expect((await admin('/usage/summary?start_date=yesterday')).body.error).toMatchObject({ param: 'start_date' });
    expect((await admin('/audit/log/does-not-exist')).status).toBe(404);
  });

  it('returns the conversation thread of an audit entry', async () => {
    const opening = [
      { role: 'system' as const, content: 'You are terse.' },
      { role: 'user' as const, content: 'thread start' },
    ];
    const turn1 = await client.chat.completions.create({ model: 'thread-model', messages: opening });
    const turn2 = await client.chat.completions.create({
      model: 'thread-model',
      messages: [
        ...opening,
        { role: 'assistant', content: turn1.choices[0]?.message.content ?? '' },
        { role: 'user', content: 'and then?' },
      ],
    });
    await client.chat.completions.create({ model: 'thread-model', messages: [{ role: 'user', content: 'another conversation' }] });
    const entry = (await admin(`/audit/log?request_id=${turn2._request_id}`)).body.data[0];
    const thread = (await admin(`/audit/log/${entry.id}/thread`)).body;
    expect(thread.entries.map((item: any) => item.request_id)).toEqual([turn1._request_id, turn2._request_id]);
    expect(thread.entries[1].response_body.choices[0].message.content).toBe('Hello from openai: and then?');
    expect((await admin(`/audit/conversation?log_id=${entry.id}`)).body).toEqual(thread);
  });

  it('redacts secrets: no stored row contains a key', async () => {
    // Secrets in headers, in the query string and in the body.
    const response = await fetch(`${running.url}/v1/chat/completions?key=query-SECRET-11ee`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${masterKey}`,
        'content-type': 'application/json',
        'x-goog-api-key': 'goog-SECRET-77aa',
        'api-key': 'azure-SECRET-99bb',
        cookie: 'session=cookie-SECRET-55cc',
        'x-api-key': 'xkey-SECRET-33dd',
        'x-custom-trace': 'visible-value',
      },
      body: JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: `my keys are ${upstreamKey} and ${masterKey}` }],
        api_key: 'xkey-SECRET-33dd',
      }),
    });
    expect(response.status).toBe(200);
    const requestId = response.headers.get('x-request-id');
    const entry = (await admin(`/audit/log?request_id=${requestId}`)).body.data[0];
    expect(entry.request_headers).toMatchObject({
      authorization: '[REDACTED]',
      'x-goog-api-key': '[REDACTED]',
      'api-key': '[REDACTED]',
      cookie: '[REDACTED]',
      'x-api-key': '[REDACTED]',
      'x-custom-trace': 'visible-value',
    });
    expect(entry.request_body.messages[0].content).toBe('my keys are [REDACTED] and [REDACTED]');
    expect(entry.request_body.api_key).toBe('[REDACTED]');

    // Scan every column of every row of the record tables.
    const storage: Storage = running.gateway.storage as Storage;
    const rows = [
      ...(await storage.db.selectFrom('usage').selectAll().execute()),
      ...(await storage.db.selectFrom('audit_log').selectAll().execute()),
    ];
    expect(rows.length).toBeGreaterThan(100);
    const dump = JSON.stringify(rows);
    for (const secret of secrets) expect(dump).not.toContain(secret);
    expect(dump).toContain('visible-value');
  });

  it('requires the master key on the admin API and serves the OpenAPI document and Swagger UI', async () => {
    expect((await admin('/usage/summary', null)).status).toBe(401);
    expect((await admin('/usage/summary', 'wrong-key')).status).toBe(401);
    const models = (await admin('/models')).body;
    expect(models.data).toContainEqual({
      id: 'gpt-4o-mini',
      qualified_id: 'openai/gpt-4o-mini',
      provider: 'openai',
      provider_type: 'openai',
    });

    const openapi = await fetch(`${running.url}/openapi.json`);
    expect(openapi.status).toBe(200);
    const document = (await openapi.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toBe('3.1.0');
    for (const path of [
      '/v1/chat/completions',
      '/v1/embeddings',
      '/v1/models',
      '/v1/responses',
      '/v1/messages',
      '/health',
      '/admin/api/v1/usage/summary',
      '/admin/api/v1/audit/log',
    ]) {
      expect(Object.keys(document.paths)).toContain(path);
    }
    const swagger = await fetch(`${running.url}/swagger`);
    expect(swagger.headers.get('content-type')).toContain('text/html');
    const html = await swagger.text();
    expect(html).toContain('swagger-ui-bundle.js');
    expect(html).not.toMatch(/https?:\/\//);
    const bundle = await fetch(`${running.url}/swagger/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
    expect((await fetch(`${running.url}/swagger/../package.json`)).status).toBe(404);
  });

  it('loses no record when the gateway restarts mid-burst', async () => {
    const slow = await startOpenAISimulator({ apiKey: upstreamKey, models: ['restart-model'], chunkDelayMs: 15 });
    const restartEnv = { ...env, OPENAI_BASE_URL: slow.baseUrl };
    // Records stay queued in memory (no timed flush): only the close can write them.
    let first: RunningGateway | undefined = await startGateway(restartEnv, {
      extensions: createRecordsExtensions(logger, { flushIntervalMs: 3_600_000, maxBatch: 10_000 }),
    });
    try {
      const restartClient = new OpenAI({ apiKey: masterKey, baseURL: `${first.url}/v1`, maxRetries: 0 });
      const contents = Array.from({ length: 30 }, (_unused, index) => `restart ${index} ${'x '.repeat(index % 5)}`.trim());
      const burst = Promise.all(
        contents.map(async (content) => {
          const stream = await restartClient.chat.completions.create({
            model: 'restart-model',
            messages: [{ role: 'user', content }],
            stream: true,
          });
          let text = '';
          for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
          return text;
        }),
      );
      while (slow.requests.filter((request) => request.body?.model === 'restart-model').length < 30) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      // Shut down while all 30 streams are in flight: the close drains them, then flushes the records.
      const closing = first.close();
      first = undefined;
      const texts = await burst;
      await closing;
      expect(texts).toEqual(contents.map((content) => `Hello from openai: ${content}`));

      const second = await startGateway(restartEnv, { extensions: createRecordsExtensions(logger) });
      try {
        const response = await fetch(`${second.url}/admin/api/v1/usage/summary?model=restart-model`, {
          headers: { authorization: `Bearer ${masterKey}` },
        });
        const summary = (await response.json()) as Record<string, number>;
        const prompt = contents.reduce((sum, content) => sum + simulatorUsage(content).prompt, 0);
        const completion = contents.reduce((sum, content) => sum + simulatorUsage(content).completion, 0);
        expect(summary).toMatchObject({ requests: 30, input_tokens: prompt, output_tokens: completion });
        const audit = await fetch(`${second.url}/admin/api/v1/audit/log?model=restart-model&limit=100`, {
          headers: { authorization: `Bearer ${masterKey}` },
        });
        expect(((await audit.json()) as { total: number }).total).toBe(30);
      } finally {
        await second.close();
      }
    } finally {
      await first?.close();
      await slow.close();
    }
  });

  it('runs migrations once and opens an existing database', async () => {
    const storage = await createStorage(backend.settings);
    try {
      expect(await storage.migrate()).toEqual([]);
      const count = await storage.db
        .selectFrom('usage')
        .select((eb) => eb.fn.countAll().as('count'))
        .executeTakeFirst();
      expect(Number(count?.count)).toBe(87);
    } finally {
      await storage.close();
    }
  });
});
