/**
 * A 200 MB file uploaded and downloaded through a real gateway process (`node src/main.ts`): the bytes arrive
 * intact both ways and the process's resident memory (sampled from /proc/{pid}/status while the bytes flow)
 * stays far below the file's size, so neither direction holds the file in memory.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type GatewayProcess, startGatewayProcess } from './helpers/gateway-process.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'files-large-master-key';
const fileBytes = 200 * 1024 * 1024;
const chunkBytes = 1024 * 1024;
/** Growth allowed over the idle process: half the file (a buffered upload or download would add at least all of it). */
const allowedGrowthBytes = 100 * 1024 * 1024;

let simulator: Simulator;
let gateway: GatewayProcess;
let url: string;
let spoolDir: string;

function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return Number(match?.[1] ?? 0) * 1024;
}

/** Samples the gateway's RSS every 25 ms while `work` runs; returns the highest figure seen. */
async function peakDuring<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = residentBytes(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, residentBytes(pid));
  }, 25);
  try {
    const result = await work();
    return { result, peak: Math.max(peak, residentBytes(pid)) };
  } finally {
    clearInterval(timer);
  }
}

/** Deterministic content: chunk i is filled with byte (i * 7) mod 256. */
function chunk(index: number): Buffer {
  return Buffer.alloc(chunkBytes, (index * 7) % 256);
}

/** Memory-backed when the machine has it: the test measures the gateway, not the disk (page cache is not process RSS). */
const scratch = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

beforeAll(async () => {
  spoolDir = mkdtempSync(join(scratch, 'modelgate-spool-'));
  simulator = await startOpenAISimulator({ apiKey: 'sk-large-upstream', filesDir: scratch });
  gateway = startGatewayProcess({
    MODELGATE_MASTER_KEY: masterKey,
    OPENAI_API_KEY: 'sk-large-upstream',
    OPENAI_BASE_URL: simulator.baseUrl,
    FILES_SPOOL_DIR: spoolDir,
    LOG_LEVEL: 'info',
  });
  url = await gateway.ready(120_000);
}, 150_000);

afterAll(async () => {
  await gateway?.stop();
  await simulator?.close();
  rmSync(spoolDir, { recursive: true, force: true });
});

it('streams a 200 MB upload and download with the gateway process RSS bounded', async () => {
  const pid = gateway.child.pid as number;
  // Warm up (first upload, JIT, pools) before the idle figure is taken.
  const warm = new FormData();
  warm.set('purpose', 'user_data');
  warm.set('file', new Blob(['warm']), 'warm.txt');
  expect((await fetch(`${url}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${masterKey}` }, body: warm })).status).toBe(
    200,
  );
  const idle = residentBytes(pid);

  const boundary = 'large-upload-boundary';
  const head = Buffer.from(
    `--${boundary}\r\ncontent-disposition: form-data; name="purpose"\r\n\r\nuser_data\r\n` +
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="large.bin"\r\ncontent-type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const sent = createHash('sha256');
  async function* body(): AsyncGenerator<Buffer> {
    yield head;
    for (let index = 0; index < fileBytes / chunkBytes; index++) {
      const piece = chunk(index);
      sent.update(piece);
      yield piece;
    }
    yield tail;
  }
  const upload = await peakDuring(pid, async () => {
    const response = await request(`${url}/v1/files`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${masterKey}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.length + fileBytes + tail.length),
      },
      body: Readable.from(body()),
    });
    return { status: response.statusCode, body: (await response.body.json()) as { id: string; bytes: number } };
  });
  expect(upload.result.status).toBe(200);
  expect(upload.result.body.bytes).toBe(fileBytes);

  const download = await peakDuring(pid, async () => {
    const response = await request(`${url}/v1/files/${upload.result.body.id}/content`, {
      headers: { authorization: `Bearer ${masterKey}` },
    });
    const received = createHash('sha256');
    let bytes = 0;
    for await (const piece of response.body) {
      bytes += (piece as Buffer).length;
      received.update(piece as Buffer);
    }
    return { status: response.statusCode, bytes, digest: received.digest('hex') };
  });
  expect(download.result).toEqual({ status: 200, bytes: fileBytes, digest: sent.digest('hex') });

  console.log(
    `gateway RSS: idle ${(idle / 1048576).toFixed(0)} MiB, peak during upload ${(upload.peak / 1048576).toFixed(0)} MiB, during download ${(download.peak / 1048576).toFixed(0)} MiB`,
  );
  expect(upload.peak - idle).toBeLessThan(allowedGrowthBytes);
  expect(download.peak - idle).toBeLessThan(allowedGrowthBytes);
  // The spool file is gone once the upload was handed on.
  expect(readdirSync(spoolDir)).toEqual([]);
}, 180_000);
