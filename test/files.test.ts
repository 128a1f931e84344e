/**
 * `/v1/files` end to end with the official openai client, over the OpenAI and Azure simulators, on SQLite and
 * PostgreSQL: upload, list, retrieve, download, delete; ownership by gateway key; provider choice; hostile
 * uploads answered with OpenAI-shaped errors.
 */
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'files-master-key';

describe.each(['sqlite', 'postgresql'] as const)('files on %s', (backendName) => {
  let backend: StorageBackend;
  let openai: Simulator;
  let azure: Simulator;
  let running: RunningGateway;
  let client: OpenAI;

  const createKey = async (): Promise<string> => {
    const response = await fetch(`${running.url}/admin/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'files test' }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { key: string }).key;
  };

  beforeAll(async () => {
    backend = createBackend(backendName);
    openai = await startOpenAISimulator({ apiKey: 'sk-files-upstream' });
    azure = await startOpenAISimulator({ flavor: 'azure', apiKey: 'azure-files-key', models: ['gpt-4o-mini'] });
    running = await startGateway({
      ...backend.env,
      MODELGATE_MASTER_KEY: masterKey,
      OPENAI_API_KEY: 'sk-files-upstream',
      OPENAI_BASE_URL: openai.baseUrl,
      AZURE_API_KEY: 'azure-files-key',
      AZURE_BASE_URL: azure.baseUrl,
      AZURE_MODELS: 'gpt-4o-mini',
      FILES_MAX_UPLOAD_BYTES: String(1024 * 1024),
    });
    client = new OpenAI({ apiKey: masterKey, baseURL: `${running.url}/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await running?.close();
    await Promise.all([openai?.close(), azure?.close()]);
    await backend?.cleanup();
  });

  it('uploads, lists, retrieves, downloads and deletes a file through the openai client', async () => {
    const content = '{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[]}}\n';
    const created = await client.files.create(
      { file: await toFile(Buffer.from(content), 'input.jsonl'), purpose: 'batch' },
      { query: { provider: 'openai' } },
    );
    expect(created).toMatchObject({ object: 'file', filename: 'input.jsonl', purpose: 'batch', bytes: Buffer.byteLength(content) });
    expect(created.id).toMatch(/^file-mg/);
    // The provider holds it under its own id, with the provider's key (the client's never reaches it).
    const upstreamFile = [...openai.filesApi.files.values()].at(-1);
    expect(upstreamFile?.object.filename).toBe('input.jsonl');
    const upload = openai.requests.filter((request) => request.path === '/v1/files' && request.method === 'POST').at(-1);
    expect(upload?.headers.authorization).toBe('Bearer sk-files-upstream');

    const listed = await client.files.list();
    expect(listed.data.map((file) => file.id)).toContain(created.id);
    const retrieved = await client.files.retrieve(created.id);
    expect(retrieved).toMatchObject({ id: created.id, status: 'processed', bytes: Buffer.byteLength(content) });
    const downloaded = await client.files.content(created.id);
    expect(await downloaded.text()).toBe(content);

    const deleted = await client.files.delete(created.id);
    expect(deleted).toMatchObject({ id: created.id, deleted: true });
    expect(openai.filesApi.files.has(String(upstreamFile?.object.id))).toBe(false);
    await expect(client.files.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
  });

  it('stores at the provider named by the multipart `provider` field (Azure with api-version and api-key)', async () => {
    const form = new FormData();
    form.set('purpose', 'user_data');
    form.set('provider', 'azure');
    form.set('file', new Blob(['hello azure']), 'notes.txt');
    const response = await fetch(`${running.url}/v1/files`, {
      method: 'POST',
      headers: { authorization: `Bearer ${masterKey}` },
      body: form,
    });
    expect(response.status).toBe(200);
    const file = (await response.json()) as { id: string; filename: string };
    expect(file.filename).toBe('notes.txt');
    const upstream = azure.requests.filter((request) => request.path === '/openai/files').at(-1);
    expect(upstream?.query.get('api-version')).toBeTruthy();
    expect(upstream?.headers['api-key']).toBe('azure-files-key');
    expect(upstream?.headers.authorization).toBeUndefined();
    // The gateway's own field never reaches the provider (the simulator would refuse it).
    expect(await (await client.files.content(file.id)).text()).toBe('hello azure');
    expect((await client.files.list({ query: { provider: 'azure' } } as never)).data.every((entry) => entry.id !== undefined)).toBe(true);
  });

  it('asks which provider when several have files and none is named', async () => {
    await expect(client.files.create({ file: await toFile(Buffer.from('x'), 'x.txt'), purpose: 'user_data' })).rejects.toMatchObject({
      status: 400,
      error: { code: 'provider_required', param: 'provider' },
    });
  });

  it("shows each key only its own files: another key's file is 404 for read, download and delete", async () => {
    const alice = new OpenAI({ apiKey: await createKey(), baseURL: `${running.url}/v1`, maxRetries: 0 });
    const bob = new OpenAI({ apiKey: await createKey(), baseURL: `${running.url}/v1`, maxRetries: 0 });
    const file = await alice.files.create(
      { file: await toFile(Buffer.from('alice only'), 'alice.txt'), purpose: 'user_data' },
      { query: { provider: 'openai' } },
    );
    expect((await alice.files.list()).data.map((entry) => entry.id)).toEqual([file.id]);
    expect((await bob.files.list()).data).toEqual([]);
    await expect(bob.files.retrieve(file.id)).rejects.toMatchObject({ status: 404, error: { code: 'file_not_found' } });
    await expect(bob.files.content(file.id)).rejects.toMatchObject({ status: 404 });
    await expect(bob.files.delete(file.id)).rejects.toMatchObject({ status: 404 });
    expect(await (await alice.files.content(file.id)).text()).toBe('alice only');
  });

  it('pages the list with limit and after, newest first', async () => {
    const owner = new OpenAI({ apiKey: await createKey(), baseURL: `${running.url}/v1`, maxRetries: 0 });
    const ids: string[] = [];
    for (const name of ['one', 'two', 'three']) {
      ids.push(
        (
          await owner.files.create(
            { file: await toFile(Buffer.from(name), `${name}.txt`), purpose: 'user_data' },
            { query: { provider: 'openai' } },
          )
        ).id,
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const first = await owner.files.list({ limit: 2 });
    expect(first.data.map((file) => file.id)).toEqual([ids[2], ids[1]]);
    expect(first.has_more).toBe(true);
    const all: string[] = [];
    for await (const file of await owner.files.list({ limit: 1, order: 'asc' })) all.push(file.id);
    expect(all).toEqual(ids);
  });

  it('refuses hostile uploads with OpenAI-shaped errors and leaves other routes alone', async () => {
    const post = (body: BodyInit, headers: Record<string, string> = {}) =>
      fetch(`${running.url}/v1/files?provider=openai`, {
        method: 'POST',
        headers: { authorization: `Bearer ${masterKey}`, ...headers },
        body,
      });
    const json = await post(JSON.stringify({ purpose: 'batch' }), { 'content-type': 'application/json' });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { error: { code: string } }).error.code).toBe('invalid_request');

    const noPurpose = new FormData();
    noPurpose.set('file', new Blob(['x']), 'x.txt');
    const missing = await post(noPurpose);
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { param: string } }).error.param).toBe('purpose');

    const noFile = new FormData();
    noFile.set('purpose', 'batch');
    expect((await post(noFile)).status).toBe(400);

    const big = new FormData();
    big.set('purpose', 'user_data');
    big.set('file', new Blob([Buffer.alloc(1024 * 1024 + 1)]), 'big.bin');
    const tooBig = await post(big);
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { error: { code: string } }).error.code).toBe('file_too_large');

    const broken = await post('--x\r\ncontent-disposition: form-data; name="purpose"\r\n\r\nbatch', {
      'content-type': 'multipart/form-data; boundary=x',
    });
    expect(broken.status).toBe(400);

    const badPurpose = new FormData();
    badPurpose.set('purpose', 'nonsense');
    badPurpose.set('file', new Blob(['x']), 'x.txt');
    const refused = await post(badPurpose);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('nonsense');

    const unknownProvider = new FormData();
    unknownProvider.set('purpose', 'batch');
    unknownProvider.set('provider', 'nope');
    unknownProvider.set('file', new Blob(['x']), 'x.txt');
    expect((await post(unknownProvider)).status).toBe(400);

    await expect(client.files.retrieve('file-does-not-exist')).rejects.toMatchObject({ status: 404 });
    const unauthenticated = await fetch(`${running.url}/v1/files`, { method: 'GET' });
    expect(unauthenticated.status).toBe(401);
    // JSON routes still parse JSON.
    const chat = await client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'still fine' }] });
    expect(chat.choices[0]?.message.content).toContain('still fine');
  });
});
