/**
 * Translated batches (Anthropic Message Batches, the Gemini Batch API) across two gateway processes (`node src/main.ts`) sharing
 * PostgreSQL: both poll (BATCH_POLL_INTERVAL) and both serve results fetches of the same batch at once, yet each
 * item is recorded exactly once; a batch nobody fetches is recorded by the poller.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createBatchReplicaCalls } from './helpers/batch-replica-calls.ts';
import { type ReplicaSet, startReplicaSet } from './helpers/replica-set.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type AnthropicSimulator, startAnthropicSimulator } from './simulators/anthropic-simulator.ts';
import { type GeminiSimulator, startGeminiSimulator } from './simulators/gemini-simulator.ts';

const masterKey = 'translated-replicas-master-key';
let backend: StorageBackend;
let anthropic: AnthropicSimulator;
let gemini: GeminiSimulator;
let replicas: ReplicaSet | undefined;
let urls: string[] = [];
const { usageRows, fetchResults, polledUsageRows } = createBatchReplicaCalls(() => backend, masterKey);

beforeAll(async () => {
  backend = createBackend('postgresql');
  anthropic = await startAnthropicSimulator({ apiKey: 'sk-ant-replicas' });
  gemini = await startGeminiSimulator({ apiKey: 'gem-replicas' });
  replicas = await startReplicaSet({
    ...backend.env,
    MODELGATE_MASTER_KEY: masterKey,
    ANTHROPIC_API_KEY: 'sk-ant-replicas',
    ANTHROPIC_BASE_URL: anthropic.baseUrl,
    GEMINI_API_KEY: 'gem-replicas',
    GEMINI_BASE_URL: gemini.baseUrl,
    BATCH_POLL_INTERVAL: '1s',
    LOG_LEVEL: 'info',
  });
  urls = replicas.urls;
}, 150_000);

afterAll(async () => {
  await replicas?.stop();
  await anthropic?.close();
  await gemini?.close();
  await backend?.cleanup();
});

const requests = (count: number, prefix: string, model = 'anthropic/claude-haiku-4-5') =>
  Array.from({ length: count }, (_unused, index) => ({
    custom_id: `${prefix}-${index}`,
    body: { model, messages: [{ role: 'user', content: `question ${index}` }] },
  }));

it('records each item of an Anthropic batch once while two replicas poll and fetch its results concurrently', async () => {
  const [first, second] = urls.map((url) => new OpenAI({ apiKey: masterKey, baseURL: `${url}/v1`, maxRetries: 0 })) as [OpenAI, OpenAI];
  anthropic.messageBatches.hold();
  const batch = await first.batches.create({
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
    requests: requests(20, 'item'),
  } as never);
  expect((await second.batches.retrieve(batch.id)).status).toBe('in_progress');
  await anthropic.messageBatches.release();

  const answers = await fetchResults([...urls, ...urls, ...urls], batch.id);
  for (const answer of answers) {
    expect(answer.status).toBe(200);
    expect(answer.text.trim().split('\n')).toHaveLength(20);
  }
  await new Promise((resolve) => setTimeout(resolve, 2500));
  const rows = await usageRows(batch.id);
  expect(rows).toHaveLength(20);
  expect(new Set(rows.map((row) => row.id)).size).toBe(20);
  expect(new Set(rows.map((row) => row.provider))).toEqual(new Set(['anthropic']));
}, 120_000);

it('records the usage of an Anthropic batch nobody fetches, through the poller', async () => {
  const client = new OpenAI({ apiKey: masterKey, baseURL: `${urls[1]}/v1`, maxRetries: 0 });
  const batch = await client.batches.create({
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
    requests: requests(3, 'polled'),
  } as never);
  expect(await polledUsageRows(batch.id)).toHaveLength(3);
}, 60_000);

it('records each item of a Gemini batch once while two replicas poll and fetch its results concurrently', async () => {
  const [first, second] = urls.map((url) => new OpenAI({ apiKey: masterKey, baseURL: `${url}/v1`, maxRetries: 0 })) as [OpenAI, OpenAI];
  gemini.batches.hold();
  const batch = await first.batches.create({
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
    requests: requests(12, 'gem', 'gemini/gemini-2.5-flash'),
  } as never);
  expect((await second.batches.retrieve(batch.id)).status).toBe('validating');
  await gemini.batches.release();
  const answers = await fetchResults([...urls, ...urls], batch.id);
  for (const answer of answers) {
    expect(answer.status).toBe(200);
    expect(answer.text.trim().split('\n')).toHaveLength(12);
  }
  await new Promise((resolve) => setTimeout(resolve, 2500));
  const rows = await usageRows(batch.id);
  expect(rows).toHaveLength(12);
  expect(new Set(rows.map((row) => row.provider))).toEqual(new Set(['gemini']));
}, 120_000);
