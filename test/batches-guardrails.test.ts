/**
 * ENABLE_GUARDRAILS_FOR_BATCH_PROCESSING: input guardrails on the lines of a batch (official openai client,
 * OpenAI simulator's Files and Batch API). A blocked line refuses the batch naming the line and the guardrail;
 * masks and system prompts change the lines the provider receives; embeddings lines are not checked; decisions
 * are counted in /metrics. Without the switch the same batch goes upstream as sent.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'mg-batch-guardrails';

const config = `
guardrails:
  enabled: true
  rules:
    - name: no-zulu
      type: denylist
      words: [zulu]
    - name: personal-data
      type: pii
      entities: [email]
    - name: house-rules
      type: system_prompt
      content: Answer briefly.
`;

type Line = { custom_id: string; body: { model: string; messages?: { role: string; content: string }[]; input?: string } };

let simulator: Simulator;
let guarded: RunningGateway;
let unguarded: RunningGateway;
let directory: string;

function gatewayEnv(name: string, extra: Record<string, string> = {}) {
  return {
    OPENAI_API_KEY: 'sk-batch-guardrails',
    OPENAI_BASE_URL: simulator.baseUrl,
    MODELGATE_MASTER_KEY: masterKey,
    STORAGE_TYPE: 'sqlite',
    SQLITE_PATH: join(directory, `${name}.db`),
    STORAGE_SPILL_DIR: join(directory, `${name}-spill`),
    BATCH_POLL_INTERVAL: '0',
    ...extra,
  };
}

function sentLines(): Line[] {
  const batch = [...simulator.filesApi.batches.values()].at(-1);
  const file = simulator.filesApi.files.get(String(batch?.input_file_id));
  return readFileSync(String(file?.path), 'utf8')
    .trim()
    .split('\n')
    .map((text) => JSON.parse(text) as Line);
}

async function createBatch(running: RunningGateway, endpoint: string, requests: Line[]) {
  const response = await fetch(`${running.url}/v1/batches`, {
    method: 'POST',
    headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ endpoint, completion_window: '24h', requests }),
  });
  return { status: response.status, body: (await response.json()) as { id?: string; error?: { code: string; message: string } } };
}

const chatLine = (id: string, content: string): Line => ({
  custom_id: id,
  body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content }] },
});

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'modelgate-batch-guardrails-'));
  writeFileSync(join(directory, 'config.yaml'), config);
  simulator = await startOpenAISimulator({ apiKey: 'sk-batch-guardrails' });
  guarded = await startGateway(gatewayEnv('guarded', { ENABLE_GUARDRAILS_FOR_BATCH_PROCESSING: 'true' }), { cwd: directory });
  unguarded = await startGateway(gatewayEnv('unguarded'), { cwd: directory });
});

afterAll(async () => {
  await guarded?.close();
  await unguarded?.close();
  await simulator?.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('input guardrails on batch lines', () => {
  it('masks and adds system prompts in the lines the provider receives', async () => {
    const created = await createBatch(guarded, '/v1/chat/completions', [
      chatLine('a', 'mail ann@example.com please'),
      chatLine('b', 'hello'),
    ]);
    expect(created.status).toBe(200);
    const sent = sentLines();
    expect(sent.map((line) => line.body.messages)).toEqual([
      [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: 'mail [EMAIL] please' },
      ],
      [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: 'hello' },
      ],
    ]);
  });

  it('refuses the whole batch when a line is blocked, naming the line and the guardrail; nothing goes upstream', async () => {
    const batchesBefore = simulator.filesApi.batches.size;
    const refused = await createBatch(guarded, '/v1/chat/completions', [chatLine('a', 'fine'), chatLine('b', 'about zulu')]);
    expect(refused.status).toBe(400);
    expect(refused.body.error?.code).toBe('guardrail_blocked');
    expect(refused.body.error?.message).toBe(
      "Batch line 2: Request blocked by guardrail 'no-zulu': the text contains a denied word or phrase",
    );
    expect(simulator.filesApi.batches.size).toBe(batchesBefore);
  });

  it('reads input files too (official client), and leaves embeddings lines alone', async () => {
    const client = new OpenAI({ apiKey: masterKey, baseURL: `${guarded.url}/v1`, maxRetries: 0 });
    const file = await client.files.create({
      file: new File([`${JSON.stringify({ method: 'POST', url: '/v1/chat/completions', ...chatLine('f', 'zulu time') })}\n`], 'in.jsonl'),
      purpose: 'batch',
    });
    await expect(
      client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
    ).rejects.toMatchObject({
      status: 400,
      code: 'guardrail_blocked',
    });
    const embeddings = await createBatch(guarded, '/v1/embeddings', [
      { custom_id: 'e', body: { model: 'text-embedding-3-small', input: 'zulu ann@example.com' } },
    ]);
    expect(embeddings.status).toBe(200);
    expect(sentLines()[0]?.body.input).toBe('zulu ann@example.com');
  });

  it('counts the decisions in /metrics', async () => {
    const text = await (await fetch(`${guarded.url}/metrics`, { headers: { authorization: `Bearer ${masterKey}` } })).text();
    expect(text).toMatch(/modelgate_guardrail_decisions_total\{guardrail="no-zulu",action="block",phase="input"\} [1-9]/);
    expect(text).toMatch(/modelgate_guardrail_decisions_total\{guardrail="personal-data",action="mask",phase="input"\} [1-9]/);
  });

  it('without ENABLE_GUARDRAILS_FOR_BATCH_PROCESSING the lines go upstream as sent', async () => {
    const created = await createBatch(unguarded, '/v1/chat/completions', [chatLine('a', 'about zulu, ann@example.com')]);
    expect(created.status).toBe(200);
    expect(sentLines()[0]?.body.messages).toEqual([{ role: 'user', content: 'about zulu, ann@example.com' }]);
  });
});
