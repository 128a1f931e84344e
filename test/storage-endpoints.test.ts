/**
 * Every model endpoint leaves one usage record whose tokens equal what the client was told, streamed or
 * not: chat completions, Responses, Messages (official Anthropic SDK) and embeddings. Real gateway with
 * the default extensions, on SQLite and PostgreSQL.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'mg-endpoints-master-key';

interface UsageRecord {
  request_id: string;
  endpoint: string;
  stream: boolean;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  status: number;
}

describe.each(['sqlite', 'postgresql'] as const)('usage of every endpoint on %s', (backendName) => {
  let backend: StorageBackend;
  let simulator: Simulator;
  let running: RunningGateway;
  let openai: OpenAI;
  let anthropic: Anthropic;

  async function usageRecords(endpoint: string): Promise<UsageRecord[]> {
    const response = await fetch(`${running.url}/admin/api/v1/usage/log?endpoint=${endpoint}&limit=500`, {
      headers: { authorization: `Bearer ${masterKey}` },
    });
    return ((await response.json()) as { data: UsageRecord[] }).data;
  }

  beforeAll(async () => {
    backend = createBackend(backendName);
    simulator = await startOpenAISimulator({ apiKey: 'sk-endpoints-upstream' });
    running = await startGateway({
      ...backend.env,
      OPENAI_API_KEY: 'sk-endpoints-upstream',
      OPENAI_BASE_URL: simulator.baseUrl,
      MODELGATE_MASTER_KEY: masterKey,
      LOGGING_ENABLED: 'true',
      LOGGING_LOG_BODIES: 'true',
    });
    openai = new OpenAI({ apiKey: masterKey, baseURL: `${running.url}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: masterKey, baseURL: running.url, maxRetries: 0 });
  });

  afterAll(async () => {
    await running?.close();
    await simulator?.close();
    await backend?.cleanup();
  });

  it('records the Responses API, JSON and streamed', async () => {
    const response = await openai.responses.create({ model: 'gpt-4o-mini', input: 'count these four words' });
    const stream = await openai.responses.create({ model: 'gpt-4o-mini', input: 'stream these words please', stream: true });
    let streamedUsage: OpenAI.Responses.ResponseUsage | undefined;
    for await (const event of stream) if (event.type === 'response.completed') streamedUsage = event.response.usage;
    const records = await usageRecords('responses');
    expect(records).toHaveLength(2);
    const json = records.find((record) => !record.stream);
    const streamed = records.find((record) => record.stream);
    expect(json).toMatchObject({ input_tokens: response.usage?.input_tokens, output_tokens: response.usage?.output_tokens, status: 200 });
    expect(streamed).toMatchObject({ input_tokens: streamedUsage?.input_tokens, output_tokens: streamedUsage?.output_tokens, status: 200 });
    expect(streamed?.output_tokens).toBeGreaterThan(0);
  });

  it('threads Responses API calls along previous_response_id', async () => {
    const first = await openai.responses.create({ model: 'gpt-4o-mini', input: 'chain start' });
    const second = await openai.responses.create({ model: 'gpt-4o-mini', input: 'chain middle', previous_response_id: first.id });
    const third = await openai.responses.create({ model: 'gpt-4o-mini', input: 'chain end', previous_response_id: second.id });
    const headers = { authorization: `Bearer ${masterKey}` };
    const log = (await (await fetch(`${running.url}/admin/api/v1/audit/log?endpoint=responses&limit=500`, { headers })).json()) as {
      data: { id: string; response_id: string | null; previous_response_id: string | null }[];
    };
    const middle = log.data.find((entry) => entry.response_id === second.id);
    expect(middle?.previous_response_id).toBe(first.id);
    const thread = (await (await fetch(`${running.url}/admin/api/v1/audit/log/${middle?.id}/thread`, { headers })).json()) as {
      entries: { response_id: string }[];
    };
    expect(thread.entries.map((entry) => entry.response_id)).toEqual([first.id, second.id, third.id]);
  });

  it('records the Messages API, JSON and streamed', async () => {
    const message = await anthropic.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hello there claude' }],
    });
    const final = await anthropic.messages
      .stream({ model: 'gpt-4o-mini', max_tokens: 100, messages: [{ role: 'user', content: 'stream to me' }] })
      .finalMessage();
    const records = await usageRecords('messages');
    expect(records).toHaveLength(2);
    expect(records.find((record) => !record.stream)).toMatchObject({
      input_tokens: message.usage.input_tokens,
      output_tokens: message.usage.output_tokens,
    });
    expect(records.find((record) => record.stream)).toMatchObject({
      input_tokens: final.usage.input_tokens,
      output_tokens: final.usage.output_tokens,
    });
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });

  it('documents every route of the default gateway in /openapi.json', async () => {
    // Fastify prints its routes as a tree of path segments, each with its methods.
    const routes: { path: string; methods: string[] }[] = [];
    const stack: string[] = [];
    for (const line of running.gateway.http.printRoutes({ commonPrefix: false }).split('\n')) {
      const match = /^([│ ]*)[├└]── (.+?)(?: \(([^)]+)\))?$/.exec(line);
      if (!match) continue;
      const depth = (match[1] ?? '').length / 4;
      const segment = match[2] ?? '';
      stack.length = depth;
      stack.push(segment === '*' ? '/*' : segment);
      if (match[3]) routes.push({ path: stack.join(''), methods: match[3].split(', ').filter((method) => method !== 'HEAD') });
    }
    expect(routes.length).toBeGreaterThan(20);
    const document = (await (await fetch(`${running.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = new Map(
      Object.entries(document.paths).map(([path, operations]) => [path.replace(/\{([^}]+)\}/g, ':$1'), Object.keys(operations)]),
    );
    const undocumented: string[] = [];
    for (const route of routes) {
      if (route.path.startsWith('/swagger') || route.path === '/openapi.json') continue;
      // `/v1/models/*` is documented as `/v1/models/{model}`; path parameter names may differ.
      const normalized = route.path
        .replace('/v1/models/*', '/v1/models/:model')
        .replace('/v1beta/models/*', '/v1beta/models/:model')
        .replace('/p/:provider/*', '/p/:provider/:path')
        .replace('/admin/dashboard/*', '/admin/dashboard/:path')
        .replace(/:[A-Za-z_]+/g, ':param');
      const operations = [...documented].find(([path]) => path.replace(/:[A-Za-z_]+/g, ':param') === normalized)?.[1] ?? [];
      // The Gemini API's `POST /{version}/models/*` serves `{model}:{action}`, documented one action at a time;
      // `/v1beta/*` is its Google-shaped 404 for every other path (find-my-way prints it as `/*`, its node
      // sharing the `/v1beta/` prefix; a real root wildcard would catch /nope, which gemini-api.test.ts checks it does not).
      if (route.path === '/*' || route.path === '/v1beta/*') continue;
      const gemini = /^\/(v1|v1beta)\/models\/\*$/.exec(route.path);
      const actions = gemini ? (documented.get(`/${gemini[1]}/models/:model:generateContent`) ?? []) : [];
      for (const method of route.methods) {
        if (!operations.includes(method.toLowerCase()) && !actions.includes(method.toLowerCase())) undocumented.push(`${method} ${route.path}`);
      }
    }
    expect(undocumented).toEqual([]);
  });

  it('records chat completions streamed without client usage, and embeddings', async () => {
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'one two three' }],
      stream: true,
    });
    for await (const chunk of stream) expect(chunk.usage ?? null).toBeNull();
    await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'five words in this input' });
    const [chat] = await usageRecords('chat.completions');
    // The simulator's usage: 3 prompt words; reply "Hello from openai: one two three" in 6 pieces.
    expect(chat).toMatchObject({ stream: true, input_tokens: 3, output_tokens: 6, total_tokens: 9 });
    const [embedding] = await usageRecords('embeddings');
    expect(embedding).toMatchObject({ input_tokens: 5, output_tokens: 0, total_tokens: 5 });
  });

  it('answers 503 when the records database is unavailable (last: closes the database)', async () => {
    await running.gateway.storage?.close();
    const response = await fetch(`${running.url}/admin/api/v1/usage/summary`, { headers: { authorization: `Bearer ${masterKey}` } });
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('storage_unavailable');
    // Model calls keep working; their records wait in the queue or the spill file.
    const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'still up' }] });
    expect(completion.choices[0]?.message.content).toBe('Hello from openai: still up');
  });
});
