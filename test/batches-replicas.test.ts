/**
 * Batch usage across two gateway processes (`node src/main.ts`) sharing PostgreSQL: both poll (BATCH_POLL_INTERVAL)
 * and both serve results fetches of the same batch at once, yet each item is recorded exactly once.
 */
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createBatchReplicaCalls } from './helpers/batch-replica-calls.ts';
import { type ReplicaSet, startReplicaSet } from './helpers/replica-set.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'batches-replicas-master-key';
let backend: StorageBackend;
let simulator: Simulator;
let replicas: ReplicaSet | undefined;
let urls: string[] = [];
const { usageRows, fetchResults, polledUsageRows } = createBatchReplicaCalls(() => backend, masterKey);

beforeAll(async () => {
  backend = createBackend('postgresql');
  simulator = await startOpenAISimulator({ apiKey: 'sk-replicas-upstream' });
  replicas = await startReplicaSet({
    ...backend.env,
    MODELGATE_MASTER_KEY: masterKey,
    OPENAI_API_KEY: 'sk-replicas-upstream',
    OPENAI_BASE_URL: simulator.baseUrl,
    BATCH_POLL_INTERVAL: '1s',
    LOG_LEVEL: 'info',
  });
  urls = replicas.urls;
}, 150_000);

afterAll(async () => {
  await replicas?.stop();
  await simulator?.close();
  await backend?.cleanup();
});

it('records each item once while two replicas poll and fetch the results of the same batch concurrently', async () => {
  const [first, second] = urls.map((url) => new OpenAI({ apiKey: masterKey, baseURL: `${url}/v1`, maxRetries: 0 })) as [OpenAI, OpenAI];
  const lines = Array.from({ length: 20 }, (_unused, index) =>
    JSON.stringify({
      custom_id: `item-${index}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: `question ${index}` }] },
    }),
  );
  simulator.filesApi.holdBatches();
  const file = await first.files.create({ file: await toFile(Buffer.from(lines.join('\n')), 'replicas.jsonl'), purpose: 'batch' });
  const batch = await first.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  // The other replica sees the same batch (records in PostgreSQL).
  expect((await second.batches.retrieve(batch.id)).status).toBe('validating');
  await simulator.filesApi.releaseBatches();

  const answers = await fetchResults([...urls, ...urls, ...urls], batch.id);
  for (const answer of answers) {
    expect(answer.status).toBe(200);
    expect(answer.text.trim().split('\n')).toHaveLength(20);
  }
  // Let both pollers run at least once more over the settled batch.
  await new Promise((resolve) => setTimeout(resolve, 2500));
  const rows = await usageRows(batch.id);
  expect(rows).toHaveLength(20);
  expect(new Set(rows.map((row) => row.id)).size).toBe(20);
}, 120_000);

it('records the usage of a batch nobody fetches, through the poller', async () => {
  const client = new OpenAI({ apiKey: masterKey, baseURL: `${urls[1]}/v1`, maxRetries: 0 });
  const body = JSON.stringify({
    custom_id: 'only',
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'polled' }] },
  });
  const file = await client.files.create({ file: await toFile(Buffer.from(body), 'polled.jsonl'), purpose: 'batch' });
  const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  expect(await polledUsageRows(batch.id)).toHaveLength(1);
}, 60_000);
