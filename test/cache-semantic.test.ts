/**
 * The semantic cache layer end to end: the embedder is the gateway's own OpenAI provider over the
 * simulator, whose `sim-semantic-embed` model returns word-bag embeddings (similar texts near, negations
 * and numbers barely moving the vector: test/simulators/semantic-embeddings.ts). Vector stores:
 * sqlite-vec (embedded) and pgvector, against a real pgvector: PGlite with @electric-sql/pglite-pgvector
 * served over the PostgreSQL wire protocol (test/helpers/pglite-server.ts), the gateway's whole storage
 * on it. The same behaviour tests run on both, first on the stores themselves, then through a gateway.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import OpenAI from 'openai';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../src/app.ts';
import { openPgvectorStore } from '../src/cache/pgvector-store.ts';
import { promptsAgree } from '../src/cache/semantic-guard.ts';
import { semanticText } from '../src/cache/semantic-text.ts';
import { createSqliteVecStore } from '../src/cache/sqlite-vec-store.ts';
import type { VectorStore } from '../src/cache/vector-store.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { defaultExtensions } from '../src/extensions.ts';
import { cacheGatewayEnv } from './helpers/cache-gateway-env.ts';
import { type PgliteServer, startPgliteServer } from './helpers/pglite-server.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, postgresUrl, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';
import { semanticEmbedding } from './simulators/semantic-embeddings.ts';

const masterKey = 'mg-semantic-master';

const cosine = (left: number[], right: number[]) => left.reduce((sum, value, index) => sum + value * (right[index] ?? 0), 0);

describe('semantic cache units', () => {
  it('the simulator embeddings put similar and negated pairs near, dissimilar far', () => {
    const capital = semanticEmbedding('Tell me the capital of France');
    expect(cosine(capital, semanticEmbedding('tell me the capital of France please'))).toBeGreaterThan(0.95);
    expect(cosine(capital, semanticEmbedding('Write a poem about the sea'))).toBeLessThan(0.5);
    expect(cosine(semanticEmbedding('Is the sky green'), semanticEmbedding('Is the sky not green'))).toBeGreaterThan(0.95);
    expect(cosine(semanticEmbedding('Add 2 apples to 2 apples'), semanticEmbedding('Add 2 apples to 3 apples'))).toBeGreaterThan(0.95);
  });

  it('the guard wants the same negations and numbers', () => {
    expect(promptsAgree('Is the sky green', 'is the sky green?')).toBe(true);
    expect(promptsAgree('Is the sky green', 'Is the sky not green')).toBe(false);
    expect(promptsAgree("Isn't the sky green", 'Is the sky not green')).toBe(true);
    expect(promptsAgree('What is 2 plus 2', 'What is 2 plus 3')).toBe(false);
    expect(promptsAgree('I want two tickets', 'I want 2 tickets')).toBe(true);
    expect(promptsAgree('Costs 1,000 dollars', 'costs 1000 dollars')).toBe(true);
  });

  it('reads the last user message and fingerprints the earlier turns', () => {
    const first = semanticText(
      'chat.completions',
      {
        messages: [
          { role: 'system', content: 'terse' },
          { role: 'user', content: 'Hi there' },
        ],
      },
      3,
    );
    const other = semanticText(
      'chat.completions',
      {
        messages: [
          { role: 'system', content: 'verbose' },
          { role: 'user', content: 'Hi there' },
        ],
      },
      3,
    );
    expect(first?.prompt).toBe('Hi there');
    expect(first?.context).not.toBe(other?.context);
    expect(semanticText('responses', { input: 'Hello' }, 3)?.prompt).toBe('Hello');
    expect(semanticText('messages', { messages: [{ role: 'user', content: [{ type: 'text', text: 'Yo' }] }] }, 3)?.prompt).toBe('Yo');
    const long = Array.from({ length: 5 }, (_unused, index) => ({ role: index % 2 ? 'assistant' : 'user', content: `m${index}` }));
    expect(semanticText('chat.completions', { messages: long }, 3)).toBeNull();
    expect(
      semanticText('chat.completions', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, 3),
    ).toBeNull();
  });
});

/** One PGlite for the file (its start is the slow part), shared by the store tests and the gateway. */
let pglite: Promise<PgliteServer> | null = null;
const pgvectorServer = () => {
  pglite ??= startPgliteServer();
  return pglite;
};
afterAll(async () => {
  if (pglite) await (await pglite).stop();
});

interface StoreBackend {
  name: string;
  open(now: () => number): Promise<{ store: VectorStore; close(): Promise<void> }>;
}

const storeBackends: StoreBackend[] = [
  {
    name: 'sqlite-vec',
    async open(now) {
      const store = createSqliteVecStore(':memory:', now);
      return { store, close: () => store.close() };
    },
  },
  {
    name: 'pgvector',
    async open(now) {
      const server = await pgvectorServer();
      const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: server.url, max: 2 }) }) });
      const store = await openPgvectorStore(db, now);
      return {
        store,
        async close() {
          await store.purge();
          await db.destroy();
        },
      };
    },
  },
];

describe.each(storeBackends)('vector store $name', (backend) => {
  let clock = 1_000_000;
  let opened: Awaited<ReturnType<StoreBackend['open']>>;
  beforeAll(async () => {
    opened = await backend.open(() => clock);
  }, 180_000);
  afterAll(async () => opened?.close());
  const row = (scope: string, text: string, entryKey: string, expiresAt = clock + 60_000) => ({
    scope,
    embedding: semanticEmbedding(text),
    entryKey,
    prompt: text,
    expiresAt,
  });

  it('finds the nearest prompts of a scope, nearest first, with cosine similarity', async () => {
    const { store } = opened;
    expect(store.kind).toBe(backend.name);
    await store.insert(row('s1', 'Tell me the capital of France', 'k-france'));
    await store.insert(row('s1', 'Write a poem about the sea', 'k-poem'));
    await store.insert(row('s1', 'Is the sky green', 'k-sky'));
    const probe = semanticEmbedding('tell me the capital of France please');
    const found = await store.search('s1', probe, 4);
    expect(found.map((match) => match.entryKey)).toEqual(['k-france', 'k-sky', 'k-poem'].slice(0, found.length));
    expect(found[0]?.prompt).toBe('Tell me the capital of France');
    expect(found[0]?.similarity).toBeCloseTo(cosine(probe, semanticEmbedding('Tell me the capital of France')), 4);
    for (let index = 1; index < found.length; index++)
      expect(found[index]?.similarity).toBeLessThanOrEqual(found[index - 1]?.similarity ?? 1);
    const negated = await store.search('s1', semanticEmbedding('Is the sky not green'), 1);
    expect(negated[0]?.entryKey).toBe('k-sky');
    expect(negated[0]?.similarity).toBeGreaterThan(0.95);
  });

  it('keeps scopes apart (parameters, tenants), skips expired rows, and limits the result', async () => {
    const { store } = opened;
    await store.insert(row('tenant-a', 'Name a large ocean', 'k-a'));
    await store.insert(row('tenant-b', 'Name a large ocean', 'k-b'));
    await store.insert(row('tenant-a', 'Name a large river', 'k-a-old', clock + 1000));
    expect(
      (await store.search('tenant-a', semanticEmbedding('name a large ocean please'), 4)).map((match) => match.entryKey).sort(),
    ).toEqual(['k-a', 'k-a-old']);
    expect((await store.search('tenant-b', semanticEmbedding('name a large ocean please'), 4)).map((match) => match.entryKey)).toEqual([
      'k-b',
    ]);
    expect(await store.search('tenant-c', semanticEmbedding('name a large ocean please'), 4)).toEqual([]);
    expect(await store.search('tenant-a', semanticEmbedding('name a large ocean please'), 1)).toHaveLength(1);
    clock += 2000;
    expect((await store.search('tenant-a', semanticEmbedding('name a large ocean please'), 4)).map((match) => match.entryKey)).toEqual([
      'k-a',
    ]);
  });

  it('keeps embeddings of another size apart, and purges everything', async () => {
    const { store } = opened;
    await store.insert({ scope: 's1', embedding: [1, 0, 0], entryKey: 'k-3d', prompt: 'three', expiresAt: clock + 60_000 });
    expect((await store.search('s1', [0.9, 0.1, 0], 4)).map((match) => match.entryKey)).toEqual(['k-3d']);
    expect(await store.search('s1', [1, 0, 0, 0], 4)).toEqual([]);
    await store.purge();
    expect(await store.search('s1', [1, 0, 0], 4)).toEqual([]);
    expect(await store.search('s1', semanticEmbedding('Tell me the capital of France'), 4)).toEqual([]);
  });
});

interface Backend {
  name: string;
  env: () => Promise<Record<string, string>>;
  stop: () => Promise<void>;
}

const backends: Backend[] = [
  { name: 'sqlite-vec', env: async () => ({ SEMANTIC_CACHE_VECTOR_STORE: 'sqlite-vec' }), stop: async () => {} },
  {
    // The gateway's whole storage on PostgreSQL (PGlite), so the default (auto) picks pgvector; `pgvector`
    // makes the start fail rather than fall back if it could not.
    name: 'pgvector',
    env: async () => ({ STORAGE_TYPE: 'postgresql', POSTGRES_URL: (await pgvectorServer()).url, SEMANTIC_CACHE_VECTOR_STORE: 'pgvector' }),
    stop: async () => {},
  },
];

describe.each(backends)('semantic cache on $name', (backend) => {
  let directory: string;
  let simulator: Simulator;
  let running: RunningGateway;
  let client: OpenAI;
  const upstreamChats = () => simulator.requests.filter((request) => request.path.endsWith('/chat/completions')).length;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'modelgate-semantic-'));
    simulator = await startOpenAISimulator({ apiKey: 'sk-semantic-upstream' });
    running = await startGateway({
      ...cacheGatewayEnv({ directory, upstreamUrl: simulator.baseUrl, upstreamKey: 'sk-semantic-upstream', masterKey }),
      SEMANTIC_CACHE_ENABLED: 'true',
      SEMANTIC_CACHE_EMBEDDER_PROVIDER: 'openai',
      SEMANTIC_CACHE_EMBEDDER_MODEL: 'sim-semantic-embed',
      ...(await backend.env()),
    });
    client = new OpenAI({ apiKey: masterKey, baseURL: `${running.url}/v1`, maxRetries: 0 });
  }, 180_000);

  afterAll(async () => {
    await running?.close();
    await simulator?.close();
    await backend.stop();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  const ask = (content: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...extra }, { headers }).withResponse();

  /** Stores happen after the answer is sent: wait until a lookup of `content` hits (or give up). */
  async function stored(content: string): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const { response } = await ask(content, {}, { 'x-cache-type': 'exact' });
      if (response.headers.get('x-cache') === 'HIT (exact)') return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`'${content}' was never stored`);
  }

  it('serves a similar prompt from the cache, with X-Cache-Similarity; not a dissimilar one', async () => {
    const first = await ask('Tell me the capital of France');
    expect(first.response.headers.get('x-cache')).toBe('MISS');
    await stored('Tell me the capital of France');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = upstreamChats();
    const similar = await ask('tell me the capital of France please');
    expect(similar.response.headers.get('x-cache')).toBe('HIT (semantic)');
    expect(Number(similar.response.headers.get('x-cache-similarity'))).toBeGreaterThanOrEqual(0.92);
    expect(similar.data.choices[0]?.message.content).toBe(first.data.choices[0]?.message.content);
    expect(upstreamChats()).toBe(before);
    const other = await ask('Write a poem about the sea');
    expect(other.response.headers.get('x-cache')).toBe('MISS');
  });

  it('never takes a negation or another number for the same question', async () => {
    await ask('Is the sky green');
    await stored('Is the sky green');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const negated = await ask('Is the sky not green');
    expect(negated.response.headers.get('x-cache')).toBe('MISS');
    expect(negated.data.choices[0]?.message.content).toContain('not green');
    await ask('Add 2 apples to 2 apples');
    await stored('Add 2 apples to 2 apples');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await ask('Add 2 apples to 3 apples')).response.headers.get('x-cache')).toBe('MISS');
  });

  it('keeps parameters, tenants and X-Cache-Type apart', async () => {
    await ask('Name a large ocean', { temperature: 0 });
    await stored('Name a large ocean');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await ask('name a large ocean please', { temperature: 0.5 })).response.headers.get('x-cache')).toBe('MISS');
    expect((await ask('name a large ocean please', {}, { 'x-cache-type': 'exact' })).response.headers.get('x-cache')).toBe('MISS');
    const key = await fetch(`${running.url}/admin/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'other tenant' }),
    });
    const secret = ((await key.json()) as { key: string }).key;
    const otherTenant = new OpenAI({ apiKey: secret, baseURL: `${running.url}/v1`, maxRetries: 0 });
    const answer = await otherTenant.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'name a large ocean please' }] })
      .withResponse();
    expect(answer.response.headers.get('x-cache')).toBe('MISS');
  });

  it('uses the vector store it was given, and says so in the overview', async () => {
    const overview = await fetch(`${running.url}/admin/api/v1/cache/overview`, { headers: { authorization: `Bearer ${masterKey}` } });
    expect(((await overview.json()) as { vector_store: string }).vector_store).toBe(backend.name);
  });

  it('refuses a prompt below the threshold (0.92) that a closer one passes', async () => {
    const original = 'Name the biggest city of Japan';
    const closer = 'name the biggest city of Japan please';
    const below = 'Name the biggest city of Japan today';
    expect(cosine(semanticEmbedding(original), semanticEmbedding(closer))).toBeGreaterThan(0.92);
    const belowSimilarity = cosine(semanticEmbedding(original), semanticEmbedding(below));
    expect(belowSimilarity).toBeGreaterThan(0.85);
    expect(belowSimilarity).toBeLessThan(0.92);
    await ask(original);
    await stored(original);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await ask(below)).response.headers.get('x-cache')).toBe('MISS');
    expect((await ask(closer)).response.headers.get('x-cache')).toBe('HIT (semantic)');
  });

  it('finds nothing once the cache is purged', async () => {
    await ask('Describe the tallest mountain');
    await stored('Describe the tallest mountain');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await ask('describe the tallest mountain please')).response.headers.get('x-cache')).toBe('HIT (semantic)');
    const purged = await fetch(`${running.url}/admin/api/v1/cache`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${masterKey}` },
    });
    expect(purged.status).toBe(200);
    expect((await ask('describe the tallest mountain please')).response.headers.get('x-cache')).toBe('MISS');
  });

  it('steps aside when the embedder fails', async () => {
    simulator.script('sim-semantic-embed', ['server-error']);
    const answer = await ask('A question while the embedder is down');
    expect(answer.response.headers.get('x-cache')).toBe('MISS');
    expect(answer.data.choices[0]?.message.content).toContain('embedder is down');
  });
});

describe('vector store choice on a PostgreSQL without pgvector (the real server at 5432)', () => {
  let storage: StorageBackend;
  let simulator: Simulator;
  beforeAll(async () => {
    storage = createBackend('postgresql');
    simulator = await startOpenAISimulator({ apiKey: 'sk-semantic-upstream' });
  });
  afterAll(async () => {
    await simulator?.close();
    await storage?.cleanup();
  });

  const start = async (vectorStore: string, lines: string[]) => {
    const directory = mkdtempSync(join(tmpdir(), 'modelgate-semantic-pg-'));
    const config = loadConfig(
      {
        PORT: '0',
        HOST: '127.0.0.1',
        ...storage.env,
        OPENAI_API_KEY: 'sk-semantic-upstream',
        OPENAI_BASE_URL: simulator.baseUrl,
        MODELGATE_MASTER_KEY: masterKey,
        RESPONSE_CACHE_SIMPLE_ENABLED: 'true',
        RESPONSE_CACHE_SQLITE_PATH: join(directory, 'cache.db'),
        SEMANTIC_CACHE_ENABLED: 'true',
        SEMANTIC_CACHE_EMBEDDER_PROVIDER: 'openai',
        SEMANTIC_CACHE_EMBEDDER_MODEL: 'sim-semantic-embed',
        SEMANTIC_CACHE_VECTOR_STORE: vectorStore,
      },
      '/nonexistent-config-dir',
    );
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    try {
      return await createGateway(config, logger, defaultExtensions(logger));
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  };

  it('auto falls back to sqlite-vec with a warning that names pgvector; pgvector fails the start', async () => {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    const available = (await client.query("select 1 from pg_available_extensions where name = 'vector'")).rowCount;
    await client.end();
    const lines: string[] = [];
    const gateway = await start('auto', lines);
    let vectorStore: string | null = null;
    try {
      const url = await gateway.listen();
      const overview = await fetch(`${url}/admin/api/v1/cache/overview`, { headers: { authorization: `Bearer ${masterKey}` } });
      vectorStore = ((await overview.json()) as { vector_store: string }).vector_store;
    } finally {
      await gateway.close();
    }
    if (available) {
      // A server with the extension: auto takes it.
      expect(vectorStore).toBe('pgvector');
      return;
    }
    expect(vectorStore).toBe('sqlite-vec');
    const warning = lines
      .map((line) => JSON.parse(line) as { level: number; msg: string; reason?: string })
      .find((line) => line.msg.includes('pgvector'));
    expect(warning?.level).toBe(40);
    expect(warning?.msg).toContain('sqlite-vec');
    expect(warning?.reason).toMatch(/vector/);
    await expect(start('pgvector', [])).rejects.toThrow(/SEMANTIC_CACHE_VECTOR_STORE.*pgvector is not available/s);
  });
});
