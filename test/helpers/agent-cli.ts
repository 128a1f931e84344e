/**
 * Runs the real coding-agent CLIs that scripts/agents.sh installs into test/agents/node_modules (Claude Code,
 * Codex) as child processes, each in its own process group and with a bounded run time: on timeout the whole
 * group (the agent and every tool process it started) gets SIGTERM, then SIGKILL, and once the agent has exited
 * whatever it left in its group is killed too, so no process outlives the test.
 *
 * The child's environment is built from scratch (no key or base URL of the machine's reaches it), with HTTP(S)
 * proxy variables pointing at an outbound trap (outbound-trap.ts): a CLI that tried to reach anything but
 * the loopback gateway would show up there instead of on the network.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export type AgentCli = 'claude' | 'codex' | 'opencode';

export interface AgentRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface AgentRunOptions {
  cwd: string;
  /** Variables besides PATH, HOME, TMPDIR, LANG and the proxy ones. */
  env: Record<string, string>;
  home: string;
  /** URL of the outbound trap every non-loopback request is sent to. */
  proxyUrl: string;
  timeoutMs?: number;
  /** Written to the CLI's standard input (closed at once without it). */
  input?: string;
}

const maxOutputBytes = 1024 * 1024;
const running = new Set<number>();

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

// A worker that ends while an agent still runs (a failed test, a vitest timeout) takes the agent with it.
process.once('exit', () => {
  for (const pid of running) killGroup(pid, 'SIGKILL');
});

/** Where scripts/agents.sh puts each CLI (opencode is its Linux x64 build, docs/coding-agents.md says why). */
const cliPaths: Record<AgentCli, string[]> = {
  claude: ['.bin', 'claude'],
  codex: ['.bin', 'codex'],
  opencode: ['opencode-linux-x64', 'bin', 'opencode'],
};

/** Path of an installed CLI; a clear error when scripts/agents.sh has not run. */
export function agentCliPath(cli: AgentCli): string {
  const path = join(import.meta.dirname, '..', 'agents', 'node_modules', ...cliPaths[cli]);
  if (!existsSync(path)) throw new Error(`${cli} is not installed in test/agents: run scripts/agents.sh (./scripts/test.sh runs it)`);
  return path;
}

export function runAgentCli(cli: AgentCli, args: string[], options: AgentRunOptions): Promise<AgentRun> {
  const loopback = '127.0.0.1,localhost,::1';
  return runBounded(agentCliPath(cli), args, {
    cwd: options.cwd,
    timeoutMs: options.timeoutMs ?? 120_000,
    input: options.input,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: options.home,
      TMPDIR: options.home,
      LANG: 'C.UTF-8',
      HTTPS_PROXY: options.proxyUrl,
      HTTP_PROXY: options.proxyUrl,
      https_proxy: options.proxyUrl,
      http_proxy: options.proxyUrl,
      ALL_PROXY: options.proxyUrl,
      NO_PROXY: loopback,
      no_proxy: loopback,
      ...options.env,
    },
  });
}

/**
 * Runs `command` in a process group of its own with exactly `env`. After `timeoutMs` the group gets SIGTERM and,
 * 5 s later, SIGKILL; once the command has exited, what is left in its group gets SIGKILL. Output is kept up
 * to 1 MiB per stream.
 */
export function runBounded(
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; timeoutMs: number; input?: string | undefined },
): Promise<AgentRun> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    detached: true,
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: options.env,
  });
  child.stdin?.on('error', () => {});
  child.stdin?.end(options.input);
  const pid = child.pid;
  if (pid !== undefined) running.add(pid);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (data: Buffer) => {
    if (stdout.length < maxOutputBytes) stdout += data.toString();
  });
  child.stderr?.on('data', (data: Buffer) => {
    if (stderr.length < maxOutputBytes) stderr += data.toString();
  });
  return new Promise((resolve, reject) => {
    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid === undefined) return;
      killGroup(pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), 5_000);
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    // Leftovers (a tool's background process) die with the command; they would also hold its output open.
    child.once('exit', () => {
      if (pid !== undefined) killGroup(pid, 'SIGKILL');
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      if (pid !== undefined) running.delete(pid);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}
