/**
 * A hostile OpenAI-compatible upstream (test/simulators/hostile-upstream.ts) against the real gateway process
 * (`node src/main.ts`): for each fault, the client's answer, the usage and audit records, the process's peak
 * memory (VmHWM from /proc), that the upstream request was aborted where the gateway gave up, and that the
 * gateway keeps serving afterwards.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HostileUpstream, hostileUsage, startHostileUpstream } from './simulators/hostile-upstream.ts';

const masterKey = 'mg-hostile-master-key';
const upstreamKey = 'sk-hostile-upstream-key-0123456789abcdef';
const limits = { response: 4 * 1024 * 1024, event: 1024 * 1024, totalMs: 1500 };
/** Far above the limits: reading any of these bodies whole would cost several times this much memory. */
const hugeBytes = 300 * 1024 * 1024;
/** Peak memory allowed above the process's peak after warm-up: well under one huge body. */
const memoryAllowance = 150 * 1024 * 1024;

let upstream: HostileUpstream;
let gateway: ChildProcess;
let baseUrl = '';
let baselinePeak = 0;
let output = '';

function memory(field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${gateway.pid}/status`, 'utf8');
  const kilobytes = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1];
  return Number(kilobytes) * 1024;
}

beforeAll(async () => {
  upstream = await startHostileUpstream({ hugeBytes, dripIntervalMs: 100 });
  const directory = mkdtempSync(join(tmpdir(), 'modelgate-hostile-'));
  gateway = spawn(process.execPath, [join(process.cwd(), 'src/main.ts')], {
    cwd: directory,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      MODELGATE_MASTER_KEY: masterKey,
      OPENAI_API_KEY: upstreamKey,
      OPENAI_BASE_URL: upstream.baseUrl,
      SQLITE_PATH: join(directory, 'modelgate.db'),
      LOGGING_ENABLED: 'true',
      UPSTREAM_MAX_RESPONSE_BYTES: String(limits.response),
      UPSTREAM_MAX_EVENT_BYTES: String(limits.event),
      UPSTREAM_TOTAL_TIMEOUT_MS: String(limits.totalMs),
      // Silence between two bytes is never long enough for the per-silence timeout: only the total one can end a drip.
      UPSTREAM_TIMEOUT_MS: '60000',
      // These cases check how one upstream response is read; with retries on (the default) a stream that
      // fails before its first content is retried and then answered as a JSON error instead.
      RETRY_MAX_RETRIES: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  gateway.stdout?.on('data', (data: Buffer) => {
    output += data.toString();
  });
  gateway.stderr?.on('data', (data: Buffer) => {
    output += data.toString();
  });
  for (let waited = 0; !output.includes('modelgate listening'); waited += 100) {
    if (waited > 45_000 || gateway.exitCode !== null) throw new Error(`the gateway did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  baseUrl = /"address":"(http:\/\/[^"]+)"/.exec(output)?.[1] ?? '';
  await expectServing();
  await expectServing(true);
  baselinePeak = memory('VmHWM');
}, 60_000);

afterAll(async () => {
  if (gateway && gateway.exitCode === null) {
    const exited = new Promise((resolve) => gateway.once('exit', resolve));
    gateway.kill('SIGTERM');
    await exited;
  }
  await upstream?.close();
});

async function call(
  model: string,
  stream: boolean,
  requestId: string,
): Promise<{ status: number; text: string; contentType: string | null }> {
  const response = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hello there' }] }),
  });
  return { status: response.status, text: await response.text(), contentType: response.headers.get('content-type') };
}

async function expectServing(stream = false): Promise<void> {
  const answer = await call('gpt-4o-mini', stream, `serving-${crypto.randomUUID()}`);
  expect(answer.status).toBe(200);
  expect(answer.text).toContain('Hello from hostile: hello there');
  if (stream) expect(answer.text.endsWith('data: [DONE]\n\n')).toBe(true);
}

interface Rows {
  usage: Record<string, unknown>;
  audit: Record<string, unknown>;
}

/** The usage record and audit entry of one call, once the batch writer has stored them. */
async function records(requestId: string): Promise<Rows> {
  const get = async (path: string) => {
    const response = await fetch(`${baseUrl}/admin/api/v1/${path}?request_id=${encodeURIComponent(requestId)}`, {
      headers: { authorization: `Bearer ${masterKey}` },
    });
    return ((await response.json()) as { data: Record<string, unknown>[] }).data;
  };
  let rows: Rows | undefined;
  await expect
    .poll(
      async () => {
        const [usage, audit] = await Promise.all([get('usage/log'), get('audit/log')]);
        if (usage.length === 1 && audit.length === 1) rows = { usage: usage[0] ?? {}, audit: audit[0] ?? {} };
        return usage.length + audit.length;
      },
      { timeout: 10_000 },
    )
    .toBe(2);
  return rows as Rows;
}

/** The data of every SSE event of a stream, in order. */
function events(text: string): string[] {
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice('data: '.length));
}

function finalError(text: string): { message: string; type: string; code: string } {
  const all = events(text);
  const last = JSON.parse(all.at(-1) ?? '{}') as { error?: { message: string; type: string; code: string } };
  expect(last.error, `last event of ${text.slice(-300)}`).toBeDefined();
  expect(text).not.toContain('data: [DONE]');
  return last.error as { message: string; type: string; code: string };
}

async function expectErrorRecord(requestId: string, status: number, code: string): Promise<Rows> {
  const rows = await records(requestId);
  expect(rows.usage.status).toBe(status);
  expect(rows.usage.error_code).toBe(code);
  expect(rows.audit.status).toBe(status);
  expect((rows.audit.error as { code: string } | null)?.code).toBe(code);
  return rows;
}

/** The upstream saw the gateway hang up long before the huge body was sent. */
async function expectUpstreamAborted(model: string): Promise<void> {
  const recorded = upstream.last(model);
  await expect.poll(() => recorded?.aborted).toBe(true);
  expect(recorded?.bytesSent).toBeLessThan(hugeBytes / 4);
}

/** After each fault: peak memory bounded, the gateway alive, and serving a normal call. */
async function expectHealthy(): Promise<void> {
  expect(gateway.exitCode, output.slice(-2000)).toBeNull();
  expect(memory('VmHWM') - baselinePeak).toBeLessThan(memoryAllowance);
  await expectServing();
  await expectServing(true);
}

describe('hostile OpenAI-compatible upstream', () => {
  it('an error event inside a stream ends it with a final error event, recorded as an error; the process survives it', async () => {
    const answer = await call('fault-error-event', true, 'hostile-error-event');
    expect(answer.status).toBe(200);
    expect(events(answer.text)[0]).toContain('"content":"partial"');
    const error = finalError(answer.text);
    expect(error.message).toContain('boom');
    expect(error.code).toBe('upstream_stream_error');
    await expectErrorRecord('hostile-error-event', 502, 'upstream_stream_error');
    // The crash this guards against came about a second after the stream: keep serving past that.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await expectHealthy();
  });

  it('the official openai client sees the stream error as an error', async () => {
    const client = new OpenAI({ apiKey: masterKey, baseURL: `${baseUrl}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: 'fault-error-event',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const read = async () => {
      for await (const _chunk of stream) {
        // the first chunk arrives; the error event throws
      }
    };
    await expect(read()).rejects.toThrow(/boom/);
    await expectHealthy();
  });

  it('a stream line that never ends is cut at UPSTREAM_MAX_EVENT_BYTES; memory stays bounded', async () => {
    const answer = await call('fault-no-newline', true, 'hostile-no-newline');
    expect(answer.status).toBe(200);
    const error = finalError(answer.text);
    expect(error.code).toBe('upstream_event_too_large');
    expect(error.message).toContain('UPSTREAM_MAX_EVENT_BYTES');
    await expectErrorRecord('hostile-no-newline', 502, 'upstream_event_too_large');
    await expectUpstreamAborted('fault-no-newline');
    await expectHealthy();
  });

  it.each([
    ['a huge JSON body', 'fault-huge-json', 'a body larger than'],
    ['a huge error body', 'fault-huge-error', 'an error body (HTTP 500) larger than'],
  ])('%s is cut at UPSTREAM_MAX_RESPONSE_BYTES: 502 JSON, recorded, upstream aborted, memory bounded', async (_name, model, message) => {
    const requestId = `hostile-${model}`;
    const answer = await call(model, false, requestId);
    expect(answer.status).toBe(502);
    expect(answer.contentType).toContain('application/json');
    const body = JSON.parse(answer.text) as { error: { code: string; message: string; type: string } };
    expect(body.error.code).toBe('upstream_response_too_large');
    expect(body.error.type).toBe('upstream_error');
    expect(body.error.message).toContain(message);
    expect(body.error.message).toContain('UPSTREAM_MAX_RESPONSE_BYTES');
    await expectErrorRecord(requestId, 502, 'upstream_response_too_large');
    await expectUpstreamAborted(model);
    await expectHealthy();
  });

  it('a body dripping one byte at a time ends at UPSTREAM_TOTAL_TIMEOUT_MS: 504 JSON', async () => {
    const answer = await call('fault-drip', false, 'hostile-drip');
    expect(answer.status).toBe(504);
    const body = JSON.parse(answer.text) as { error: { code: string; type: string; message: string } };
    expect(body.error.code).toBe('upstream_timeout');
    expect(body.error.type).toBe('timeout_error');
    expect(body.error.message).toContain('UPSTREAM_TOTAL_TIMEOUT_MS');
    await expectErrorRecord('hostile-drip', 504, 'upstream_timeout');
    const recorded = upstream.last('fault-drip');
    await expect.poll(() => recorded?.aborted).toBe(true);
    expect(recorded?.finished).toBe(false);
    await expectHealthy();
  });

  it('a dripping stream ends at UPSTREAM_TOTAL_TIMEOUT_MS with a final error event, recorded as 504', async () => {
    const answer = await call('fault-drip', true, 'hostile-drip-stream');
    expect(answer.status).toBe(200);
    expect(finalError(answer.text).code).toBe('upstream_timeout');
    await expectErrorRecord('hostile-drip-stream', 504, 'upstream_timeout');
    const recorded = upstream.last('fault-drip');
    await expect.poll(() => recorded?.aborted).toBe(true);
    await expectHealthy();
  });

  it.each([false, true])('an upstream redirect is a 502, never relayed (stream: %s)', async (stream) => {
    const requestId = `hostile-redirect-${stream}`;
    const answer = await call('fault-redirect', stream, requestId);
    expect(answer.status).toBe(502);
    expect(answer.contentType).toContain('application/json');
    expect(answer.text).not.toContain('elsewhere.invalid');
    const body = JSON.parse(answer.text) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('upstream_redirect');
    expect(body.error.message).toContain('HTTP 302');
    await expectErrorRecord(requestId, 502, 'upstream_redirect');
    await expectHealthy();
  });

  it.each(['not-json', 'null', 'array', 'number'])(
    'a malformed stream event (%s) is a final error event and an error record',
    async (kind) => {
      const requestId = `hostile-malformed-${kind}`;
      const answer = await call(`fault-malformed-${kind}`, true, requestId);
      expect(answer.status).toBe(200);
      const error = finalError(answer.text);
      expect(error.code).toBe('upstream_invalid_response');
      // Nothing after the bad event is relayed as if the stream had gone on.
      expect(answer.text).not.toContain('"finish_reason":"stop"');
      await expectErrorRecord(requestId, 502, 'upstream_invalid_response');
      await expectHealthy();
    },
  );

  it.each([false, true])('negative and absurd token counts are stored as 0 (stream: %s)', async (stream) => {
    const requestId = `hostile-negative-usage-${stream}`;
    const answer = await call('fault-negative-usage', stream, requestId);
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('Hello from hostile');
    const rows = await records(requestId);
    expect(rows.usage.status).toBe(200);
    expect(hostileUsage.prompt_tokens).toBeLessThan(0);
    expect(rows.usage.input_tokens).toBe(0);
    expect(rows.usage.output_tokens).toBe(0);
    expect(rows.usage.total_tokens).toBe(0);
    await expectHealthy();
  });

  it('an upstream 401 is relayed as an error with its status and recorded (the key scrubbing is checked where it is built)', async () => {
    const answer = await call('fault-echo-key', false, 'hostile-echo-key');
    expect(answer.status).toBe(401);
    const body = JSON.parse(answer.text) as { error: { code: string; type: string } };
    expect(body.error.code).toBe('invalid_api_key');
    expect(body.error.type).toBe('invalid_request_error');
    await expectErrorRecord('hostile-echo-key', 401, 'invalid_api_key');
    await expectHealthy();
  });

  it('never logged an uncaught error', () => {
    expect(output).not.toMatch(/uncaught|Unhandled 'error' event|RequestAbortedError/i);
    expect(gateway.exitCode).toBeNull();
  });
});
