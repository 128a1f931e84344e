/**
 * The semantic cache across two gateway processes (`node src/main.ts`): entries in the shared Redis store
 * (a key prefix unique to the run), vectors in pgvector on the shared PostgreSQL (PGlite with pgvector, served
 * over the wire protocol by test/helpers/pglite-server.ts). A prompt answered by one replica is a semantic hit
 * on the other for a similar prompt, and only for a similar one: a negation, another tenant or other
 * parameters miss there too. Counting the simulator's chat requests tells a hit from a miss.
 * (With sqlite-vec, the embedded vector store, each process has its own vectors: see docs/cache.md.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgliteServer, startPgliteServer } from './helpers/pglite-server.ts';
import { type ReplicaSet, startReplicaSet } from './helpers/replica-set.ts';
import { createStateBackend, type StateBackend } from './helpers/state-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'mg-semantic-replicas-master';
let pgvector: PgliteServer;
let state: StateBackend;
let simulator: Simulator;
let replicas: ReplicaSet | undefined;
let first = '';
let second = '';

beforeAll(async () => {
  pgvector = await startPgliteServer();
  state = createStateBackend('redis');
  simulator = await startOpenAISimulator({ apiKey: 'sk-semantic-replicas' });
  replicas = await startReplicaSet({
    ...state.env,
    STORAGE_TYPE: 'postgresql',
    POSTGRES_URL: pgvector.url,
    OPENAI_API_KEY: 'sk-semantic-replicas',
    OPENAI_BASE_URL: simulator.baseUrl,
    MODELGATE_MASTER_KEY: masterKey,
    RESPONSE_CACHE_SIMPLE_ENABLED: 'true',
    SEMANTIC_CACHE_ENABLED: 'true',
    SEMANTIC_CACHE_EMBEDDER_PROVIDER: 'openai',
    SEMANTIC_CACHE_EMBEDDER_MODEL: 'sim-semantic-embed',
    SEMANTIC_CACHE_VECTOR_STORE: 'pgvector',
    RETRY_MAX_RETRIES: '0',
  });
  [first = '', second = ''] = replicas.urls;
}, 180_000);

afterAll(async () => {
  await replicas?.stop();
  await simulator?.close();
  await state?.cleanup();
  await pgvector?.stop();
});

const upstreamChats = () => simulator.requests.filter((request) => request.path.endsWith('/chat/completions')).length;

async function ask(
  url: string,
  content: string,
  options: { key?: string; extra?: Record<string, unknown>; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${options.key ?? masterKey}`, 'content-type': 'application/json', ...options.headers },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...options.extra }),
  });
  const body = (await response.json()) as { choices?: { message: { content: string } }[] };
  return {
    status: response.status,
    cache: response.headers.get('x-cache'),
    similarity: Number(response.headers.get('x-cache-similarity')),
    content: body.choices?.[0]?.message.content,
  };
}

/**
 * Stores (entry and vector) happen after the answer: wait until the replica that stored `content` finds it by
 * meaning (then it is in the shared stores). Polling the other replica would make it store its own entry.
 */
async function seenBySemantics(url: string, content: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const answer = await ask(url, content, { headers: { 'x-cache-type': 'semantic' } });
    if (answer.cache === 'HIT (semantic)') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`'${content}' never reached the shared vector store`);
}

describe('semantic cache across two gateway processes (Redis entries, pgvector vectors)', { timeout: 120_000 }, () => {
  it('answers a similar prompt on one replica from an answer the other stored', async () => {
    const stored = await ask(first, 'Tell me the capital of France');
    expect(stored.cache).toBe('MISS');
    await seenBySemantics(first, 'Tell me the capital of France');
    const before = upstreamChats();
    const similar = await ask(second, 'tell me the capital of France please');
    expect(similar.cache).toBe('HIT (semantic)');
    expect(similar.similarity).toBeGreaterThanOrEqual(0.92);
    expect(similar.content).toBe(stored.content);
    expect(upstreamChats()).toBe(before);
  });

  it('keeps negations, parameters and tenants apart across replicas too', async () => {
    await ask(first, 'Is the sky green');
    await seenBySemantics(first, 'Is the sky green');
    const negated = await ask(second, 'Is the sky not green');
    expect(negated.cache).toBe('MISS');
    expect(negated.content).toContain('not green');
    expect((await ask(second, 'is the sky green please', { extra: { temperature: 0.5 } })).cache).toBe('MISS');
    const created = await fetch(`${first}/admin/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'other tenant' }),
    });
    const otherKey = ((await created.json()) as { key: string }).key;
    // A new key reaches the other replica within a second; until then it answers 401.
    let otherTenant = await ask(second, 'is the sky green please', { key: otherKey });
    for (let attempt = 0; otherTenant.status === 401 && attempt < 40; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      otherTenant = await ask(second, 'is the sky green please', { key: otherKey });
    }
    expect(otherTenant.status).toBe(200);
    expect(otherTenant.cache).toBe('MISS');
    expect((await ask(second, 'is the sky green please')).cache).toBe('HIT (semantic)');
  });
});
