/**
 * The real entry point as a process: start, serve, warn without a key, fail fast on bad config, exit on SIGTERM,
 * reach an HTTPS upstream (the bundle loads node:tls at first use, scripts/lazy-builtins-plugin.ts).
 * Run twice: from the sources (`node src/main.ts`) and from the production bundle (scripts/build.ts), which the
 * container image runs.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMockUpstreamHandler } from '../bench/mock-upstream.ts';
import { buildBundle } from '../scripts/build.ts';
import { createBackend } from './helpers/storage-backends.ts';
import { startOpenAISimulator } from './simulators/openai-simulator.ts';

// Inside the project, so that the bundle finds its external packages in node_modules as it does in the image.
const bundleDirectory = join(process.cwd(), 'dist', `test-${process.pid}`);
const entries: Record<string, string> = {
  'node src/main.ts': join(process.cwd(), 'src/main.ts'),
  'node dist/modelgate.mjs (bundle)': join(bundleDirectory, 'modelgate.mjs'),
};
beforeAll(async () => {
  await buildBundle(entries['node dist/modelgate.mjs (bundle)']);
}, 120_000);
afterAll(() => rmSync(bundleDirectory, { recursive: true, force: true }));

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

function startEntry(
  entry: string,
  env: Record<string, string>,
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const directory = mkdtempSync(join(tmpdir(), 'modelgate-main-'));
  const child = spawn(process.execPath, [entry], {
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

describe.each(Object.keys(entries))('%s', { timeout: 90_000 }, (name) => {
  const startMain = (env: Record<string, string>) => startEntry(entries[name] as string, env);

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

  it('serves with PostgreSQL and Redis (what the bundle loads only when configured)', async () => {
    const backend = createBackend('postgresql');
    try {
      const run = startMain({
        ...backend.env,
        PORT: '0',
        HOST: '127.0.0.1',
        MODELGATE_MASTER_KEY: 'mk-main-test',
        REDIS_URL: 'redis://127.0.0.1:6379',
      });
      await expect.poll(() => run.output(), { timeout: 60_000 }).toContain('modelgate listening');
      const address = /"address":"(http:\/\/[^"]+)"/.exec(run.output())?.[1];
      const created = await fetch(`${address}/admin/api/v1/keys`, {
        method: 'POST',
        headers: { authorization: 'Bearer mk-main-test', 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'bundle-check' }),
      });
      expect(created.status).toBe(201);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    } finally {
      await backend.cleanup();
    }
  });

  it('relays JSON and streams from an HTTPS upstream', async () => {
    // A self-signed certificate for 127.0.0.1 (openssl, as on the machines here), trusted through NODE_EXTRA_CA_CERTS.
    const directory = mkdtempSync(join(tmpdir(), 'modelgate-main-tls-'));
    const [key, cert] = [join(directory, 'key.pem'), join(directory, 'cert.pem')];
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      {
        stdio: 'ignore',
      },
    );
    const upstream = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, createMockUpstreamHandler(3));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    try {
      const run = startMain({
        PORT: '0',
        MODELGATE_MASTER_KEY: 'mk-main-tls',
        OPENAI_API_KEY: 'sk-main-tls',
        OPENAI_BASE_URL: `https://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`,
        NODE_EXTRA_CA_CERTS: cert,
      });
      await expect.poll(() => run.output(), { timeout: 60_000 }).toContain('modelgate listening');
      const address = /"address":"(http:\/\/[^"]+)"/.exec(run.output())?.[1];
      const call = (stream: boolean) =>
        fetch(`${address}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: 'Bearer mk-main-tls', 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: 'ping' }] }),
        });
      const json = await call(false);
      expect(json.status).toBe(200);
      expect(((await json.json()) as { object: string }).object).toBe('chat.completion');
      const streamed = await call(true);
      expect(streamed.status).toBe(200);
      expect((await streamed.text()).trimEnd().endsWith('data: [DONE]')).toBe(true);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    } finally {
      await new Promise((resolve) => upstream.close(resolve));
      rmSync(directory, { recursive: true, force: true });
    }
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
        // max_tokens: the clamp reads the shipped output limits, which must travel inside the bundle.
        body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 64, messages: [{ role: 'user', content: 'ping' }] }),
      });
      expect(response.status).toBe(200);
      const streamed = await fetch(`${address}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'ping' }] }),
      });
      expect(streamed.headers.get('content-type')).toContain('text/event-stream');
      expect((await streamed.text()).trimEnd().endsWith('data: [DONE]')).toBe(true);
      // Pricing data, the OpenAPI document and the Swagger UI's own files come along with the bundle.
      const openapi = (await (await fetch(`${address}/openapi.json`)).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(openapi.paths)).toContain('/v1/chat/completions');
      expect((await fetch(`${address}/swagger/swagger-ui.css`)).status).toBe(200);
      // So does the dashboard's build (dist/dashboard beside the bundle).
      const dashboard = await fetch(`${address}/admin/dashboard`);
      expect(dashboard.status).toBe(200);
      expect(await dashboard.text()).toContain('<div id="app"></div>');
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(run.output()).not.toContain('sk-main-test-secret');
    } finally {
      await simulator.close();
    }
  });
});

describe('node dist/modelgate.mjs (bundle): code cache', { timeout: 90_000 }, () => {
  it('writes its code cache once started, and a restart reads it instead of writing another', async () => {
    const simulator = await startOpenAISimulator({ apiKey: 'sk-main-test-secret' });
    const cacheDirectory = mkdtempSync(join(tmpdir(), 'modelgate-code-cache-'));
    const env = {
      PORT: '0',
      OPENAI_API_KEY: 'sk-main-test-secret',
      OPENAI_BASE_URL: simulator.baseUrl,
      NODE_COMPILE_CACHE: cacheDirectory,
    };
    const cacheFiles = () => readdirSync(cacheDirectory).filter((name) => name.startsWith('modelgate-') && name.endsWith('.code-cache'));
    try {
      const first = startEntry(entries['node dist/modelgate.mjs (bundle)'] as string, env);
      await expect.poll(() => first.output(), { timeout: 60_000 }).toContain('modelgate listening');
      await expect.poll(cacheFiles, { timeout: 10_000 }).toHaveLength(1);
      const file = join(cacheDirectory, cacheFiles()[0] as string);
      const written = statSync(file);
      expect(written.size).toBeGreaterThan(100_000);
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);

      const second = startEntry(entries['node dist/modelgate.mjs (bundle)'] as string, env);
      await expect.poll(() => second.output(), { timeout: 60_000 }).toContain('modelgate listening');
      const address = /"address":"(http:\/\/[^"]+)"/.exec(second.output())?.[1];
      const response = await fetch(`${address}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'ping' }] }),
      });
      expect(response.status).toBe(200);
      // Past the moment a rejected cache would have been written again (src/core/after-start.ts).
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(statSync(file).mtimeMs).toBe(written.mtimeMs);
      expect(cacheFiles()).toHaveLength(1);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      await simulator.close();
      rmSync(cacheDirectory, { recursive: true, force: true });
    }
  });
});
