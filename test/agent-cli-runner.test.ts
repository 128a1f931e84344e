/**
 * The runner the coding-agent CLI tests use (test/helpers/agent-cli.ts): a run is bounded, and neither a
 * command that outlives its timeout nor the background processes it starts are left running.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { runBounded } from './helpers/agent-cli.ts';

/** True while `pid` is a live process (a zombie waiting to be reaped counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

describe('runBounded', () => {
  it('kills a command that outlives its timeout, with the processes it started', async () => {
    const started = Date.now();
    const run = await runBounded('bash', ['-c', 'sleep 300 & echo $!; wait'], { cwd: tmpdir(), env, timeoutMs: 500 });
    expect(run.timedOut).toBe(true);
    expect(run.signal).toBe('SIGTERM');
    expect(Date.now() - started).toBeLessThan(10_000);
    const background = Number(run.stdout.trim());
    expect(background).toBeGreaterThan(0);
    expect(await eventually(() => !alive(background))).toBe(true);
  });

  it('kills what a command leaves behind when it exits, and returns at once', async () => {
    const run = await runBounded('bash', ['-c', 'sleep 300 & echo $!'], { cwd: tmpdir(), env, timeoutMs: 60_000 });
    expect(run).toMatchObject({ code: 0, timedOut: false });
    const background = Number(run.stdout.trim());
    expect(await eventually(() => !alive(background))).toBe(true);
  });

  it('passes standard input and only the given environment', async () => {
    const run = await runBounded('bash', ['-c', 'read line; echo "$line" "$(printenv HOME || echo no-home)"'], {
      cwd: tmpdir(),
      env,
      timeoutMs: 10_000,
      input: 'hello\n',
    });
    expect(run).toMatchObject({ code: 0, stdout: 'hello no-home\n' });
  });
});
