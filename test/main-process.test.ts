/** The real entry point as a process: start, serve, warn without a key, fail fast on bad config, exit on SIGTERM. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startOpenAISimulator } from './simulators/openai-simulator.ts';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function startMain(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const directory = mkdtempSync(join(tmpdir(), 'modelgate-main-'));
  const child = spawn(process.execPath, [join(process.cwd(), 'src/main.ts')], {
    cwd: directory,
    env: { PATH: process.env.PATH ?? '', SQLITE_PATH: join(directory, 'modelgate.db'), ...env },
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
  return { child, output: () => output, exited };
}

describe('node src/main.ts', { timeout: 90_000 }, () => {
  it('fails at start with a message naming the bad key', async () => {
    const run = startMain({ BODY_SIZE_LIMIT: 'lots' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('BODY_SIZE_LIMIT');
    expect(run.output()).toContain('Invalid configuration');
  });

  it('fails at start, naming POSTGRES_URL without its password, when PostgreSQL cannot be reached', async () => {
    const run = startMain({ STORAGE_TYPE: 'postgresql', POSTGRES_URL: 'postgres://modelgate:hunter2-secret@127.0.0.1:1/gateway' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('POSTGRES_URL');
    expect(run.output()).toContain('127.0.0.1:1/gateway');
    expect(run.output()).not.toContain('hunter2-secret');
  });

  it('starts, warns without a master key, binds to loopback, serves, and exits 0 on SIGTERM', async () => {
    const simulator = await startOpenAISimulator({ apiKey: 'sk-main-test-secret' });
    try {
      const run = startMain({ PORT: '0', OPENAI_API_KEY: 'sk-main-test-secret', OPENAI_BASE_URL: simulator.baseUrl });
      await expect.poll(() => run.output(), { timeout: 60_000 }).toContain('modelgate listening');
      const address = /"address":"(http:\/\/[^"]+)"/.exec(run.output())?.[1];
      expect(address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(run.output()).toContain('MODELGATE_MASTER_KEY is not set');
      const response = await fetch(`${address}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'ping' }] }),
      });
      expect(response.status).toBe(200);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(run.output()).not.toContain('sk-main-test-secret');
    } finally {
      await simulator.close();
    }
  });
});
