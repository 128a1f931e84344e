/**
 * Runs the real entry point (`node src/main.ts`) as a child process, for tests that need separate
 * gateway processes (replicas sharing PostgreSQL and Redis, crashes, start-up).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GatewayProcess {
  child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** Resolves with the base URL once the gateway logs that it listens. */
  ready(timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

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
