/**
 * SIGTERM to the real process while streams are in flight: the streams finish, and every usage and
 * audit record is in the database afterwards. SQLite uses the default path (data/modelgate.db under
 * the working directory, created on first start); PostgreSQL the real server.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createStorage } from '../src/storage/database.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe.each(['sqlite', 'postgresql'] as const)('SIGTERM on %s', (backendName) => {
  let backend: StorageBackend;
  let simulator: Simulator;

  beforeAll(async () => {
    backend = createBackend(backendName);
    simulator = await startOpenAISimulator({ apiKey: 'sk-sigterm-upstream-secret', models: ['sigterm-model'], chunkDelayMs: 20 });
  });

  afterAll(async () => {
    await simulator?.close();
    await backend?.cleanup();
  });

  it('finishes in-flight streams and flushes every record before exiting', { timeout: 120_000 }, async () => {
    const workingDirectory = join(backend.spillDir, '..');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      OPENAI_API_KEY: 'sk-sigterm-upstream-secret',
      OPENAI_BASE_URL: simulator.baseUrl,
      LOGGING_ENABLED: 'true',
      LOGGING_LOG_BODIES: 'true',
      ...backend.env,
    };
    // SQLite: the default path, relative to the working directory.
    delete env.SQLITE_PATH;
    const child = spawn(process.execPath, [join(process.cwd(), 'src/main.ts')], {
      cwd: workingDirectory,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout?.on('data', (data: Buffer) => {
      output += data.toString();
    });
    child.stderr?.on('data', (data: Buffer) => {
      output += data.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await expect.poll(() => output, { timeout: 45_000 }).toContain('modelgate listening');
    const address = /"address":"(http:\/\/[^"]+)"/.exec(output)?.[1];

    const streams = Array.from({ length: 20 }, async (_unused, index) => {
      const response = await fetch(`${address}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'sigterm-model', stream: true, messages: [{ role: 'user', content: `stream number ${index}` }] }),
      });
      return response.text();
    });
    await expect
      .poll(() => simulator.requests.filter((request) => request.path.endsWith('/chat/completions')).length, { timeout: 45_000 })
      .toBe(20);
    child.kill('SIGTERM');
    const bodies = await Promise.all(streams);
    expect(await exited).toBe(0);
    for (const body of bodies) expect(body).toContain('data: [DONE]');

    const sqlitePath = join(workingDirectory, 'data', 'modelgate.db');
    if (backendName === 'sqlite') expect(existsSync(sqlitePath)).toBe(true);
    const storage = await createStorage({ ...backend.settings, sqlitePath });
    try {
      const usage = await storage.db.selectFrom('usage').selectAll().where('model', '=', 'sigterm-model').execute();
      expect(usage).toHaveLength(20);
      expect(usage.every((row) => Number(row.status) === 200 && Number(row.output_tokens) > 0)).toBe(true);
      const audit = await storage.db.selectFrom('audit_log').select('request_id').where('model', '=', 'sigterm-model').execute();
      expect(audit).toHaveLength(20);
    } finally {
      await storage.close();
    }
    expect(output).not.toContain('sk-sigterm-upstream-secret');
  });
});
