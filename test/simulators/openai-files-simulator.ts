/**
 * The OpenAI Files and Batch APIs, for the OpenAI simulator (and its Azure and Groq flavours).
 *
 * Formats follow the OpenAI API reference:
 * - Files: https://platform.openai.com/docs/api-reference/files — `POST /files` (multipart `file` + `purpose`,
 *   purpose one of assistants, batch, fine-tune, vision, user_data, evals), `GET /files` (list envelope with
 *   `has_more`, `first_id`, `last_id`; `purpose`, `limit`, `order`, `after`), `GET /files/{id}`,
 *   `DELETE /files/{id}` (`{"id","object":"file","deleted":true}`), `GET /files/{id}/content` (the bytes).
 *   An unknown id is 404 `No such File object: {id}` (invalid_request_error, param "id").
 * - Batches: https://platform.openai.com/docs/api-reference/batch — `POST /batches` (`input_file_id`, `endpoint`,
 *   `completion_window` "24h", `metadata`), `GET /batches`, `GET /batches/{id}`, `POST /batches/{id}/cancel`; the
 *   batch object with status validating → in_progress → finalizing → completed (or cancelling → cancelled), and
 *   `request_counts`. Input and output are JSONL (https://platform.openai.com/docs/guides/batch): input lines
 *   `{"custom_id","method","url","body"}`, output lines `{"id","custom_id","response":{"status_code","request_id","body"},"error":null}`;
 *   lines whose request failed go to the error file with the error body.
 * Uploaded files are kept on disk (a 200 MB upload costs the simulator no memory).
 * A batch runs as soon as it is created, unless `holdBatches()` was called (then at `releaseBatches()`).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { readRequestJson } from './simulator-server.ts';

type Json = Record<string, unknown>;

export interface SimulatedFile {
  object: Json;
  path: string;
}

export interface FilesSimulator {
  /** Answers a Files or Batch request; false when the path is not one. */
  handle(request: IncomingMessage, response: ServerResponse, path: string): Promise<boolean>;
  files: Map<string, SimulatedFile>;
  batches: Map<string, Json>;
  holdBatches(): void;
  releaseBatches(): Promise<void>;
  close(): void;
}

const purposes = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'];
const batchEndpoints = ['/v1/chat/completions', '/v1/embeddings', '/v1/responses', '/v1/completions', '/chat/completions', '/embeddings'];

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function invalidRequest(response: ServerResponse, status: number, message: string, param: string | null, code: string | null = null): void {
  sendJson(response, status, { error: { message, type: 'invalid_request_error', param, code } });
}

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;
const now = () => Math.floor(Date.now() / 1000);
const randomId = (prefix: string) => `${prefix}${randomBytes(9).toString('hex')}`;

/** What the simulated model answers to one batch line: a chat completion or embeddings with usage, or an error. */
function answerLine(url: string, body: Json): { status: number; body: Json } {
  const model = String(body.model ?? '');
  if (model.startsWith('no-such-')) {
    return {
      status: 404,
      body: {
        error: {
          message: `The model \`${model}\` does not exist or you do not have access to it.`,
          type: 'invalid_request_error',
          param: null,
          code: 'model_not_found',
        },
      },
    };
  }
  if (url.endsWith('/embeddings')) {
    const tokens = Math.max(1, words(JSON.stringify(body.input ?? '')));
    return {
      status: 200,
      body: {
        object: 'list',
        data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }],
        model,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      },
    };
  }
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
  const text = (content: unknown) => (typeof content === 'string' ? content : JSON.stringify(content ?? ''));
  const last = [...messages].reverse().find((message) => message.role === 'user');
  const reply = `Batch reply: ${text(last?.content)}`;
  const promptTokens = messages.reduce((total, message) => total + words(text(message.content)), 0);
  const completionTokens = words(reply);
  return {
    status: 200,
    body: {
      id: randomId('chatcmpl-'),
      object: 'chat.completion',
      created: now(),
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: reply, refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    },
  };
}

export function createFilesSimulator(apiRoot: string, filesDir = tmpdir()): FilesSimulator {
  const directory = mkdtempSync(join(filesDir, 'openai-sim-files-'));
  const files = new Map<string, SimulatedFile>();
  const batches = new Map<string, Json>();
  let held = false;
  const waiting: string[] = [];

  async function addFile(filename: string, purpose: string, content: string): Promise<Json> {
    const id = randomId('file-');
    const path = join(directory, id);
    await writeFile(path, content);
    const object: Json = {
      id,
      object: 'file',
      bytes: Buffer.byteLength(content),
      created_at: now(),
      filename,
      purpose,
      status: 'processed',
      status_details: null,
    };
    files.set(id, { object, path });
    return object;
  }

  async function upload(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const fields = new Map<string, string>();
    let received: { path: string; filename: string; bytes: number } | null = null;
    const writes: Promise<void>[] = [];
    try {
      const parser = busboy({ headers: request.headers });
      parser.on('field', (name, value) => fields.set(name, value));
      parser.on('file', (name, stream, info) => {
        if (name !== 'file') {
          stream.resume();
          return;
        }
        const path = join(directory, randomId('upload-'));
        let bytes = 0;
        stream.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        writes.push(
          pipeline(stream, createWriteStream(path)).then(() => {
            received = { path, filename: info.filename ?? 'upload', bytes };
          }),
        );
      });
      await new Promise<void>((resolve, reject) => {
        parser.on('close', resolve);
        parser.on('error', reject);
        request.pipe(parser);
      });
      await Promise.all(writes);
    } catch {
      request.resume();
      invalidRequest(response, 400, 'Invalid multipart/form-data body', null);
      return;
    }
    const purpose = fields.get('purpose');
    const file = received as { path: string; filename: string; bytes: number } | null;
    if (!purpose || !purposes.includes(purpose)) {
      if (file) await rm(file.path, { force: true });
      invalidRequest(
        response,
        400,
        purpose ? `'${purpose}' is not one of ${JSON.stringify(purposes)} - 'purpose'` : "Missing required parameter: 'purpose'.",
        'purpose',
      );
      return;
    }
    if (!file) {
      invalidRequest(response, 400, "Missing required parameter: 'file'.", 'file');
      return;
    }
    if (fields.has('provider')) {
      // The real API rejects parameters it does not define.
      await rm(file.path, { force: true });
      invalidRequest(response, 400, 'Unrecognized request argument supplied: provider', 'provider');
      return;
    }
    const id = randomId('file-');
    const object: Json = {
      id,
      object: 'file',
      bytes: file.bytes,
      created_at: now(),
      filename: file.filename,
      purpose,
      status: 'processed',
      status_details: null,
    };
    files.set(id, { object, path: file.path });
    sendJson(response, 200, object);
  }

  function listOf(items: Json[], url: URL): Json {
    const order = url.searchParams.get('order') === 'asc' ? 1 : -1;
    const sorted = [...items].sort((left, right) => order * (Number(left.created_at) - Number(right.created_at)));
    const after = url.searchParams.get('after');
    const start = after ? sorted.findIndex((item) => item.id === after) + 1 : 0;
    const limit = Number(url.searchParams.get('limit') ?? 10_000);
    const data = sorted.slice(start, start + limit);
    return {
      object: 'list',
      data,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
      has_more: start + limit < sorted.length,
    };
  }

  async function runBatch(id: string): Promise<void> {
    const batch = batches.get(id);
    if (batch?.status !== 'validating') return;
    batch.status = 'in_progress';
    batch.in_progress_at = now();
    const input = files.get(String(batch.input_file_id));
    const text = input ? await readFile(input.path, 'utf8') : '';
    const output: string[] = [];
    const errors: string[] = [];
    const lines = text.split('\n').filter((line) => line.trim() !== '');
    for (const line of lines) {
      let parsed: Json;
      try {
        parsed = JSON.parse(line) as Json;
      } catch {
        errors.push(
          JSON.stringify({
            id: randomId('batch_req_'),
            custom_id: null,
            response: null,
            error: { code: 'invalid_json', message: 'The line is not valid JSON' },
          }),
        );
        continue;
      }
      const answer = answerLine(String(parsed.url ?? ''), (parsed.body ?? {}) as Json);
      const entry = JSON.stringify({
        id: randomId('batch_req_'),
        custom_id: parsed.custom_id,
        response: { status_code: answer.status, request_id: randomId('req_'), body: answer.body },
        error: null,
      });
      (answer.status === 200 ? output : errors).push(entry);
    }
    if (batch.status !== 'in_progress') return;
    batch.status = 'finalizing';
    batch.finalizing_at = now();
    if (output.length > 0) batch.output_file_id = (await addFile('batch_output.jsonl', 'batch_output', `${output.join('\n')}\n`)).id;
    if (errors.length > 0) batch.error_file_id = (await addFile('batch_errors.jsonl', 'batch_output', `${errors.join('\n')}\n`)).id;
    batch.request_counts = { total: lines.length, completed: output.length, failed: errors.length };
    batch.status = 'completed';
    batch.completed_at = now();
  }

  async function createBatch(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { body } = await readRequestJson(request);
    if (!body) return invalidRequest(response, 400, 'We could not parse the JSON body of your request.', null);
    const inputFileId = String(body.input_file_id ?? '');
    const input = files.get(inputFileId);
    if (!input)
      return invalidRequest(response, 400, `Invalid 'input_file_id': '${inputFileId}'. No such file.`, 'input_file_id', 'invalid_value');
    if (input.object.purpose !== 'batch')
      return invalidRequest(
        response,
        400,
        `The file '${inputFileId}' was not uploaded with purpose 'batch'.`,
        'input_file_id',
        'invalid_value',
      );
    if (!batchEndpoints.includes(String(body.endpoint)))
      return invalidRequest(response, 400, `Invalid 'endpoint': '${String(body.endpoint)}'.`, 'endpoint', 'invalid_value');
    if (body.completion_window !== '24h')
      return invalidRequest(response, 400, "Invalid 'completion_window': only '24h' is supported.", 'completion_window', 'invalid_value');
    const id = randomId('batch_');
    const created = now();
    const batch: Json = {
      id,
      object: 'batch',
      endpoint: body.endpoint,
      errors: null,
      input_file_id: inputFileId,
      completion_window: '24h',
      status: 'validating',
      output_file_id: null,
      error_file_id: null,
      created_at: created,
      in_progress_at: null,
      expires_at: created + 86_400,
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata: body.metadata ?? null,
    };
    batches.set(id, batch);
    sendJson(response, 200, batch);
    if (held) waiting.push(id);
    else await runBatch(id);
  }

  async function handle(request: IncomingMessage, response: ServerResponse, path: string): Promise<boolean> {
    if (!path.startsWith(`${apiRoot}/files`) && !path.startsWith(`${apiRoot}/batches`)) return false;
    const url = new URL(request.url ?? '/', 'http://simulator');
    const rest = path.slice(apiRoot.length);
    const method = request.method ?? 'GET';
    if (rest === '/files' && method === 'POST') return upload(request, response).then(() => true);
    if (rest === '/batches' && method === 'POST') return createBatch(request, response).then(() => true);
    request.resume();
    if (rest === '/files' && method === 'GET') {
      const purpose = url.searchParams.get('purpose');
      sendJson(
        response,
        200,
        listOf(
          [...files.values()].map((file) => file.object).filter((file) => !purpose || file.purpose === purpose),
          url,
        ),
      );
      return true;
    }
    if (rest === '/batches' && method === 'GET') {
      sendJson(response, 200, listOf([...batches.values()], url));
      return true;
    }
    const fileMatch = /^\/files\/([^/]+)(\/content)?$/.exec(rest);
    if (fileMatch) {
      const id = decodeURIComponent(fileMatch[1] ?? '');
      const file = files.get(id);
      if (!file) {
        invalidRequest(response, 404, `No such File object: ${id}`, 'id');
        return true;
      }
      if (fileMatch[2] && method === 'GET') {
        const size = (await stat(file.path)).size;
        response.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': size,
          'content-disposition': `attachment; filename="${String(file.object.filename)}"`,
        });
        await pipeline(createReadStream(file.path), response);
      } else if (method === 'GET') {
        sendJson(response, 200, file.object);
      } else if (method === 'DELETE') {
        files.delete(id);
        await rm(file.path, { force: true });
        sendJson(response, 200, { id, object: 'file', deleted: true });
      } else {
        invalidRequest(response, 405, 'Method not allowed', null);
      }
      return true;
    }
    const batchMatch = /^\/batches\/([^/]+)(\/cancel)?$/.exec(rest);
    if (batchMatch) {
      const id = decodeURIComponent(batchMatch[1] ?? '');
      const batch = batches.get(id);
      if (!batch) {
        invalidRequest(response, 404, `No batch found with id '${id}'.`, 'batch_id', 'batch_not_found');
        return true;
      }
      if (batchMatch[2] && method === 'POST') {
        if (!['validating', 'in_progress'].includes(String(batch.status))) {
          invalidRequest(response, 400, `Cannot cancel a batch with status '${String(batch.status)}'.`, null);
          return true;
        }
        batch.status = 'cancelling';
        batch.cancelling_at = now();
        sendJson(response, 200, batch);
        setImmediate(() => {
          batch.status = 'cancelled';
          batch.cancelled_at = now();
        });
      } else if (!batchMatch[2] && method === 'GET') {
        sendJson(response, 200, batch);
      } else {
        invalidRequest(response, 405, 'Method not allowed', null);
      }
      return true;
    }
    invalidRequest(response, 404, `Invalid URL (${method} ${path})`, null);
    return true;
  }

  return {
    handle,
    files,
    batches,
    holdBatches() {
      held = true;
    },
    async releaseBatches() {
      held = false;
      for (const id of waiting.splice(0)) await runBatch(id);
    },
    close() {
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
