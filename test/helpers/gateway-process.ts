/**
 * Runs the real entry point (`node src/main.ts`) as a child process, for tests that need separate
 * gateway processes (replicas sharing PostgreSQL and Redis, crashes, start-up). When a test fails, the end of
 * every process's output that is still running is printed, so a replica's own error shows in the report.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

export interface GatewayProcess {
  child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** Resolves with the base URL once the gateway logs that it listens. */
  ready(timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Processes started by this test file and not yet exited, with their output. */
const running = new Map<ChildProcess, () => string>();

// Registered once per test file (the helper is imported at collection): a failed test's report gets the
// processes' own words, e.g. the error behind a 500 a replica answered.
afterEach(({ task }) => {
  if (task.result?.state !== 'fail') return;
  for (const [child, output] of running) {
    process.stderr.write(`\n--- gateway process ${child.pid}, last 6,000 characters of its output ---\n${output().slice(-6000)}\n`);
  }
});

export function startGatewayProcess(env: Record<string, string>): GatewayProcess {
  const directory = mkdtempSync(join(tmpdir(), 'modelgate-process-'));
  const child = spawn(process.execPath, [join(process.cwd(), 'src/main.ts')], {
    cwd: directory,
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', SQLITE_PATH: join(directory, 'modelgate.db'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (data: Buffer) => {
    output += data.toString();
  });
  child.stderr?.on('data', (data: Buffer) => {
    output += data.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  running.set(child, () => output);
  void exited.then(() => running.delete(child));
  return {
    child,
    output: () => output,
    exited,
    async ready(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const address = /"address":"(http:\/\/[^"]+)"/.exec(output)?.[1];
        if (address) return address;
        if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}: ${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`gateway did not start within ${timeoutMs} ms: ${output}`);
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
