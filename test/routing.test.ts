/**
 * Aliases, virtual models and model access on the pipeline, through real gateways in front of two
 * OpenAI-compatible simulators (OpenAI and Groq flavours: their answers say which one served).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

let openai: Simulator;
let groq: Simulator;
const directories: string[] = [];
const gateways: RunningGateway[] = [];

beforeAll(async () => {
  openai = await startOpenAISimulator({ apiKey: 'sk-openai', models: ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small'] });
  groq = await startOpenAISimulator({ flavor: 'groq', apiKey: 'gsk-groq', models: ['llama-3.3-70b-versatile', 'sim-rate-limited'] });
});

afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  await openai?.close();
  await groq?.close();
});

async function gateway(env: Record<string, string> = {}, yaml?: string): Promise<{ url: string; client: OpenAI; running: RunningGateway }> {
  const directory = mkdtempSync(join(tmpdir(), 'modelgate-routing-'));
  directories.push(directory);
  if (yaml) writeFileSync(join(directory, 'config.yaml'), yaml);
  const running = await startGateway(
    {
      OPENAI_API_KEY: 'sk-openai',
      OPENAI_BASE_URL: openai.baseUrl,
      GROQ_API_KEY: 'gsk-groq',
      GROQ_BASE_URL: groq.baseUrl,
      MODELGATE_MASTER_KEY: 'mg-routing',
      SQLITE_PATH: join(directory, 'gateway.db'),
      ...env,
    },
    { cwd: directory },
  );
  gateways.push(running);
  return { url: running.url, running, client: new OpenAI({ apiKey: 'mg-routing', baseURL: `${running.url}/v1`, maxRetries: 0 }) };
}

async function ask(client: OpenAI, model: string, extra: Record<string, unknown> = {}) {
  const completion = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'who?' }], ...extra } as never);
  return (completion as unknown as { choices: { message: { content: string } }[] }).choices[0]?.message.content ?? '';
}

function admin(url: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${url}/admin/api/v1${path}`, {
    method,
    headers: { authorization: 'Bearer mg-routing', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe('aliases', () => {
  it('resolves MODEL_ALIASES and config.yaml aliases on every inbound API and lists them in /v1/models', async () => {
    const { client, url } = await gateway(
      { MODEL_ALIASES: 'fast=groq/llama-3.3-70b-versatile,smart=gpt-4o' },
      'aliases:\n  embed: text-embedding-3-small\n  quick: fast\n',
    );
    expect(await ask(client, 'fast')).toBe('Hello from groq: who?');
    expect(await ask(client, 'quick')).toBe('Hello from groq: who?');
    expect(openai.requests.length).toBeGreaterThan(0);
    await ask(client, 'smart');
    expect(openai.requests.at(-1)?.body?.model).toBe('gpt-4o');
    const embedding = await client.embeddings.create({ model: 'embed', input: 'x' });
    expect(embedding.data).toHaveLength(1);
    const response = await client.responses.create({ model: 'fast', input: 'hi' });
    expect(response.output_text).toBe('Hello from groq: hi');
    const messages = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'mg-routing', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fast', max_tokens: 20, messages: [{ role: 'user', content: 'hey' }] }),
    });
    expect(((await messages.json()) as { content: { text: string }[] }).content[0]?.text).toBe('Hello from groq: hey');
    const ids = (await client.models.list()).data.map((model) => [model.id, model.owned_by]);
    expect(ids).toEqual(
      expect.arrayContaining([
        ['fast', 'groq'],
        ['smart', 'modelgate'],
        ['embed', 'modelgate'],
        ['gpt-4o-mini', 'openai'],
      ]),
    );
  });

  it('lists only aliases and virtual models with KEEP_ONLY_ALIASES_AT_MODELS_ENDPOINT=true', async () => {
    const { client } = await gateway({
      MODEL_ALIASES: 'fast=groq/llama-3.3-70b-versatile',
      VIRTUAL_MODELS: JSON.stringify({ pool: { targets: [{ model: 'gpt-4o-mini' }] } }),
      KEEP_ONLY_ALIASES_AT_MODELS_ENDPOINT: 'true',
    });
    expect((await client.models.list()).data.map((model) => model.id).sort()).toEqual(['fast', 'pool']);
    expect((await client.models.retrieve('fast')).owned_by).toBe('groq');
  });

  it('manages aliases through the admin API: create, use, update, refuse cycles and config deletes, delete', async () => {
    const { client, url } = await gateway({ MODEL_ALIASES: 'fixed=gpt-4o' });
    const created = await admin(url, 'POST', '/aliases', { name: 'team-default', target: 'groq/llama-3.3-70b-versatile' });
    expect(created.status).toBe(200);
    expect(await created.json()).toEqual({ name: 'team-default', target: 'groq/llama-3.3-70b-versatile', source: 'admin' });
    expect(await ask(client, 'team-default')).toBe('Hello from groq: who?');
    expect((await admin(url, 'PUT', '/aliases/team-default', { target: 'gpt-4o-mini' })).status).toBe(200);
    expect(await ask(client, 'team-default')).toBe('Hello from openai: who?');
    const cycle = await admin(url, 'POST', '/aliases', { name: 'gpt-4o-mini', target: 'team-default' });
    expect(cycle.status).toBe(400);
    expect(((await cycle.json()) as { error: { code: string } }).error.code).toBe('alias_cycle');
    const bad = await admin(url, 'POST', '/aliases', { name: 'has space', target: 'x' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('name');
    const configured = await admin(url, 'DELETE', '/aliases/fixed');
    expect(configured.status).toBe(409);
    const list = (await (await admin(url, 'GET', '/aliases')).json()) as { data: { name: string; source: string }[] };
    expect(list.data).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'fixed', source: 'config' })]));
    expect((await admin(url, 'DELETE', '/aliases/team-default')).status).toBe(200);
    await expect(ask(client, 'team-default')).rejects.toMatchObject({ status: 404 });
    expect((await admin(url, 'GET', '/aliases/team-default')).status).toBe(404);
    const document = (await (await fetch(`${url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/admin/api/v1/aliases', '/admin/api/v1/virtual-models/{name}']));
  });
});

describe('virtual models', () => {
  const targets = [
    { model: 'openai/gpt-4o-mini', weight: 3, priority: 1 },
    { model: 'groq/llama-3.3-70b-versatile', weight: 1, priority: 0 },
  ];

  it('splits calls by weight (3:1 over 40 calls) and says which target served', async () => {
    const { client, url } = await gateway({ VIRTUAL_MODELS: JSON.stringify({ pool: { strategy: 'weighted', targets } }) });
    const answers: string[] = [];
    for (let index = 0; index < 40; index++) answers.push(await ask(client, 'pool'));
    const fromGroq = answers.filter((answer) => answer.includes('groq')).length;
    expect(fromGroq).toBeGreaterThanOrEqual(8);
    expect(fromGroq).toBeLessThanOrEqual(12);
    const raw = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer mg-routing', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'pool', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(raw.headers.get('x-modelgate-virtual-model')).toMatch(/^pool=(openai\/gpt-4o-mini|groq\/llama-3\.3-70b-versatile)$/);
  });

  it('keeps a session on one target (x-modelgate-session-id, else user)', async () => {
    const { client } = await gateway({
      VIRTUAL_MODELS: JSON.stringify({ sticky: { strategy: 'weighted', session_affinity: true, targets } }),
    });
    const bySession = async (session: string) => {
      const answers = new Set<string>();
      for (let index = 0; index < 6; index++) {
        const completion = await client.chat.completions.create(
          { model: 'sticky', messages: [{ role: 'user', content: 'who?' }] },
          { headers: { 'x-modelgate-session-id': session } },
        );
        answers.add(completion.choices[0]?.message.content ?? '');
      }
      return answers;
    };
    expect((await bySession('alice')).size).toBe(1);
    expect((await bySession('bob')).size).toBe(1);
    const byUser = new Set<string>();
    for (let index = 0; index < 6; index++) byUser.add(await ask(client, 'sticky', { user: 'carol' }));
    expect(byUser.size).toBe(1);
  });

  it('priority goes in order and skips unavailable targets; cost picks the cheapest priced target', async () => {
    const { client, running } = await gateway(
      {
        VIRTUAL_MODELS: JSON.stringify({
          ordered: { strategy: 'priority', targets },
          cheap: { strategy: 'cost', targets: [{ model: 'openai/gpt-4o' }, { model: 'groq/llama-3.3-70b-versatile' }] },
        }),
      },
      'pricing:\n  groq/llama-3.3-70b-versatile: { input: 0.1, output: 0.1 }\n  openai/gpt-4o: { input: 2.5, output: 10 }\n',
    );
    expect(await ask(client, 'ordered')).toBe('Hello from groq: who?');
    let groqDown = true;
    running.gateway.routing.health.add({ available: (provider) => !(groqDown && provider === 'groq') });
    expect(await ask(client, 'ordered')).toBe('Hello from openai: who?');
    groqDown = false;
    expect(await ask(client, 'ordered')).toBe('Hello from groq: who?');
    expect(await ask(client, 'cheap')).toBe('Hello from groq: who?');
  });

  it('least-busy avoids the target holding a stream; least-latency prefers the faster target once measured', async () => {
    const slow = await startOpenAISimulator({ apiKey: 'sk-slow', models: ['slow-model'], chunkDelayMs: 150, answerDelayMs: 400 });
    try {
      const { client } = await gateway({
        OPENAI_SLOW_API_KEY: 'sk-slow',
        OPENAI_SLOW_BASE_URL: slow.baseUrl,
        VIRTUAL_MODELS: JSON.stringify({
          busy: { strategy: 'least-busy', targets: [{ model: 'openai-slow/slow-model' }, { model: 'groq/llama-3.3-70b-versatile' }] },
          quick: { strategy: 'least-latency', targets: [{ model: 'openai-slow/slow-model' }, { model: 'groq/llama-3.3-70b-versatile' }] },
        }),
      });
      const stream = await client.chat.completions.create({
        model: 'busy',
        stream: true,
        messages: [{ role: 'user', content: 'one two three' }],
      });
      const iterator = stream[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(JSON.stringify(first.value)).not.toContain('groq');
      // The slow target holds a stream: the next call goes to the other one.
      expect(await ask(client, 'busy')).toBe('Hello from groq: who?');
      for (let step = await iterator.next(); !step.done; step = await iterator.next()) {
        // drain
      }
      // Both measured (the first two calls explore), then the faster one wins.
      const answers: string[] = [];
      for (let index = 0; index < 5; index++) {
        const streamed = await client.chat.completions.create({
          model: 'quick',
          stream: true,
          messages: [{ role: 'user', content: 'hi' }],
        });
        let text = '';
        for await (const chunk of streamed) text += chunk.choices[0]?.delta?.content ?? '';
        answers.push(text);
      }
      expect(answers.slice(2).every((answer) => answer.includes('groq'))).toBe(true);
    } finally {
      await slow.close();
    }
  });

  it('manages virtual models through the admin API', async () => {
    const { client, url } = await gateway();
    const created = await admin(url, 'POST', '/virtual-models', {
      name: 'team',
      strategy: 'priority',
      targets: [{ model: 'groq/llama-3.3-70b-versatile' }],
    });
    expect(created.status).toBe(200);
    expect(await created.json()).toMatchObject({ name: 'team', strategy: 'priority', session_affinity: false, source: 'admin' });
    expect(await ask(client, 'team')).toBe('Hello from groq: who?');
    const invalid = await admin(url, 'POST', '/virtual-models', { name: 'bad', strategy: 'random', targets: [] });
    expect(invalid.status).toBe(400);
    const clash = await admin(url, 'POST', '/aliases', { name: 'team', target: 'gpt-4o' });
    expect(clash.status).toBe(409);
    expect((await admin(url, 'DELETE', '/virtual-models/team')).status).toBe(200);
    await expect(ask(client, 'team')).rejects.toMatchObject({ status: 404 });
  });
});

describe('model access', () => {
  it('MODELS_ENABLED_BY_DEFAULT=false serves only enabled models; admin overrides switch models on and off', async () => {
    const { client, url } = await gateway(
      { MODELS_ENABLED_BY_DEFAULT: 'false' },
      'model_overrides:\n  - { provider: openai, model: gpt-4o-mini, enabled: true }\n',
    );
    expect(await ask(client, 'gpt-4o-mini')).toBe('Hello from openai: who?');
    await expect(ask(client, 'groq/llama-3.3-70b-versatile')).rejects.toMatchObject({ status: 403, code: 'model_disabled' });
    expect((await client.models.list()).data.map((model) => model.id)).toEqual(['gpt-4o-mini']);
    expect((await admin(url, 'PUT', '/model-overrides', { provider: 'groq', model: '*', enabled: true })).status).toBe(200);
    expect(await ask(client, 'groq/llama-3.3-70b-versatile')).toBe('Hello from groq: who?');
    expect((await admin(url, 'PUT', '/model-overrides', { provider: 'openai', model: 'gpt-4o-mini', enabled: false })).status).toBe(200);
    await expect(ask(client, 'gpt-4o-mini')).rejects.toMatchObject({ status: 403 });
    expect((await admin(url, 'DELETE', '/model-overrides?provider=openai&model=gpt-4o-mini')).status).toBe(200);
    // Back to the configured override.
    expect(await ask(client, 'gpt-4o-mini')).toBe('Hello from openai: who?');
  });
});
