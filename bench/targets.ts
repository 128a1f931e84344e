/**
 * Benchmark targets as separate child processes, so start time and memory are measured per process:
 * cold start = spawn to the first successful readiness request; idle RSS = VmRSS once ready;
 * peak RSS = VmHWM (high-water mark) after the load.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface TargetDefinition {
  /** Short id used in results: direct, floor, modelgate, portkey. */
  id: string;
  label: string;
  /** Arguments for `node` (script path first). */
  nodeArguments: string[];
  env: Record<string, string>;
  port: number;
  readinessPath: string;
  /** Headers every chat request to this target carries (auth, routing). */
  headers: Record<string, string>;
}

export interface RunningTarget {
  definition: TargetDefinition;
  process: ChildProcess;
  pid: number;
  url: string;
  coldStartMs: number;
  idleRssMb: number;
  logFile: string;
  memory(): { rssMb: number; peakRssMb: number };
  cpuMs(): number;
  stop(): Promise<void>;
}

/** The low end of the kernel's ephemeral port range (listen(0) and outgoing connections draw from it). */
const ephemeralLow = (() => {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 12_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
})();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

const handedOut = new Set<number>();

/**
 * A port for a child process to listen on. Chosen below the ephemeral range: a port the kernel handed to a
 * probe listen(0) goes back to the pool when the probe closes, and another process's listen(0) or outgoing
 * connection could take it before the child binds (EADDRINUSE seen in parallel tests). The kernel never hands
 * out ports below the range by itself, so only another explicit chooser could collide: a random pick among
 * ~20,000 ports, checked free, and never the same twice in this process.
 */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 64; tries++) {
    const port = 10_000 + Math.floor(Math.random() * (ephemeralLow - 10_000));
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port found between 10000 and ${ephemeralLow}`);
}

/** VmRSS and VmHWM of a process, in MB (Linux /proc). */
export function processMemory(pid: number): { rssMb: number; peakRssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
    return match?.[1] ? Number(match[1]) / 1024 : Number.NaN;
  };
  return { rssMb: field('VmRSS'), peakRssMb: field('VmHWM') };
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc, clock ticks of 10 ms). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at field 3; utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function probe(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = httpRequest(url, { agent: false, timeout: 1000 }, (response) => {
      response.resume();
      resolve((response.statusCode ?? 500) < 300);
    });
    request.on('error', () => resolve(false));
    request.on('timeout', () => {
      request.destroy();
      resolve(false);
    });
    request.end();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startTarget(
  definition: TargetDefinition,
  options: {
    logDirectory: string;
    startTimeoutMs?: number;
    settleMs?: number;
    /** A program that runs node, and its arguments before node's path (`valgrind --tool=callgrind ...`). */
    wrapper?: string[];
  },
): Promise<RunningTarget> {
  const logFile = join(options.logDirectory, `${definition.id}.log`);
  const logFd = openSync(logFile, 'w');
  const startedAt = performance.now();
  const [command, ...wrapperArguments] = options.wrapper ?? [process.execPath];
  const nodeArguments = options.wrapper ? [...wrapperArguments, process.execPath, ...definition.nodeArguments] : definition.nodeArguments;
  const child = spawn(command as string, nodeArguments, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...definition.env },
    stdio: ['ignore', logFd, logFd],
    // A scratch working directory: no config.yaml or data/ of the checkout is picked up.
    cwd: options.logDirectory,
  });
  closeSync(logFd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  const url = `http://127.0.0.1:${definition.port}`;
  const deadline = startedAt + (options.startTimeoutMs ?? 90_000);
  let ready = false;
  while (!ready) {
    if (exitCode !== undefined) {
      throw new Error(
        `${definition.label} exited with code ${exitCode} before it was ready; see ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-2000)}`,
      );
    }
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${definition.label} was not ready within ${options.startTimeoutMs ?? 90_000} ms; see ${logFile}`);
    }
    ready = await probe(`${url}${definition.readinessPath}`);
    if (!ready) await sleep(5);
  }
  const coldStartMs = performance.now() - startedAt;
  const pid = child.pid as number;
  // Idle RSS: once started and quiet (timers and lazy initialisation settled).
  await sleep(options.settleMs ?? 500);
  const idleRssMb = processMemory(pid).rssMb;
  return {
    definition,
    process: child,
    pid,
    url,
    coldStartMs,
    idleRssMb,
    logFile,
    memory: () => processMemory(pid),
    cpuMs: () => processCpuMs(pid),
    async stop() {
      if (exitCode !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
