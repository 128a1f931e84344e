/**
 * The Gemini Batch API with inline requests, mounted by the Gemini simulator (test/simulators/gemini-simulator.ts).
 *
 * Formats follow the Gemini API reference (https://ai.google.dev/api/batch-mode) and guide
 * (https://ai.google.dev/gemini-api/docs/batch-mode):
 * - `POST /v1beta/models/{model}:batchGenerateContent` with {"batch":{"displayName","inputConfig":{"requests":
 *   {"requests":[{"request":GenerateContentRequest,"metadata":{"key"}}]}}}} (snake_case `display_name`,
 *   `input_config` accepted too) answers a long-running Operation {"name":"batches/...","metadata":
 *   GenerateContentBatch}. The batch's `state` goes BATCH_STATE_PENDING → BATCH_STATE_RUNNING →
 *   BATCH_STATE_SUCCEEDED (or BATCH_STATE_CANCELLED, BATCH_STATE_EXPIRED); `batchStats` counts are int64 strings
 *   (requestCount, successfulRequestCount, failedRequestCount, pendingRequestCount).
 * - `GET /v1beta/batches/{id}`: the Operation; once finished `done: true` and `response` {"@type":
 *   "...GenerateContentBatchOutput","inlinedResponses":{"inlinedResponses":[{"metadata":{"key"},"response"} |
 *   {"metadata","error":{"code","message","status"}}]}} with the google.rpc.Status code of a failed request.
 * - `POST /v1beta/batches/{id}:cancel` answers `{}` (google.protobuf.Empty); the batch ends BATCH_STATE_CANCELLED
 *   shortly after, with the responses of the requests that had run.
 * - An unknown batch is 404 NOT_FOUND "Requested entity was not found."
 * Each request runs through the simulator's own `generateContent`, so answers and errors (gemini-sim-server-error,
 * an unknown model) are the API's. A batch runs `processingDelayMs` after creation unless `hold()` was called (then at
 * `release()`); `expire(id)` ends a held batch BATCH_STATE_EXPIRED, as one pending for 48 hours.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';

type Json = Record<string, unknown>;

export interface SimulatedGeminiBatch {
  operation: Json;
  model: string;
  requests: { request: Json; metadata?: Json }[];
  responses: Json[];
}

export interface GeminiBatchesSimulator {
  /** Answers a Batch API request; false when the path is not one. */
  handle(method: string, path: string, model: string | undefined, body: Json | undefined, response: ServerResponse): Promise<boolean>;
  batches: Map<string, SimulatedGeminiBatch>;
  hold(): void;
  release(): Promise<void>;
  expire(name: string): void;
}

export interface GeminiBatchesOptions {
  /** The simulator's base URL (`.../v1beta`), where each request is run. */
  baseUrl: () => string;
  apiKey: string | undefined;
  processingDelayMs?: number;
  error(response: ServerResponse, code: number, status: string, message: string): void;
}

const batchType = 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch';
const outputType = 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput';
const grpcCode: Record<number, number> = { 400: 3, 401: 16, 403: 7, 404: 5, 429: 8, 500: 13, 503: 14, 504: 4 };

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

export function createGeminiBatchesSimulator(options: GeminiBatchesOptions): GeminiBatchesSimulator {
  const batches = new Map<string, SimulatedGeminiBatch>();
  let held = false;
  const waiting: string[] = [];

  function metadataOf(batch: SimulatedGeminiBatch): Json {
    return batch.operation.metadata as Json;
  }

  function restat(batch: SimulatedGeminiBatch): void {
    const succeeded = batch.responses.filter((entry) => entry.response !== undefined).length;
    const failed = batch.responses.length - succeeded;
    const metadata = metadataOf(batch);
    metadata.batchStats = {
      requestCount: String(batch.requests.length),
      successfulRequestCount: String(succeeded),
      failedRequestCount: String(failed),
      pendingRequestCount: String(batch.requests.length - batch.responses.length),
    };
    metadata.updateTime = new Date().toISOString();
  }

  function finish(batch: SimulatedGeminiBatch, state: string): void {
    const metadata = metadataOf(batch);
    metadata.state = state;
    metadata.endTime = new Date().toISOString();
    restat(batch);
    const inlined = { inlinedResponses: [...batch.responses] };
    metadata.output = { inlinedResponses: inlined };
    batch.operation.done = true;
    batch.operation.response = { '@type': outputType, inlinedResponses: inlined };
  }

  async function runOne(batch: SimulatedGeminiBatch, entry: { request: Json; metadata?: Json }): Promise<Json> {
    const answer = await fetch(`${options.baseUrl()}/models/${encodeURIComponent(batch.model)}:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(options.apiKey ? { 'x-goog-api-key': options.apiKey } : {}) },
      body: JSON.stringify(entry.request),
    });
    const body = (await answer.json()) as Json;
    const metadata = entry.metadata ?? {};
    if (answer.ok) return { metadata, response: body };
    const error = (body.error ?? {}) as Json;
    return { metadata, error: { code: grpcCode[answer.status] ?? 2, message: error.message, status: error.status } };
  }

  async function run(name: string): Promise<void> {
    const batch = batches.get(name);
    if (!batch || metadataOf(batch).state !== 'BATCH_STATE_PENDING') return;
    metadataOf(batch).state = 'BATCH_STATE_RUNNING';
    for (const entry of batch.requests) {
      if (metadataOf(batch).state !== 'BATCH_STATE_RUNNING') return;
      batch.responses.push(await runOne(batch, entry));
      restat(batch);
    }
    if (metadataOf(batch).state === 'BATCH_STATE_RUNNING') finish(batch, 'BATCH_STATE_SUCCEEDED');
  }

  function create(model: string, body: Json | undefined, response: ServerResponse): void {
    const batch = (body?.batch ?? {}) as Json;
    const input = (batch.inputConfig ?? batch.input_config ?? {}) as Json;
    const requests = ((input.requests ?? {}) as Json).requests;
    if (!Array.isArray(requests) || requests.length === 0) {
      options.error(response, 400, 'INVALID_ARGUMENT', '* BatchGenerateContentRequest.batch.input_config: input_config is not specified');
      return;
    }
    const missing = (requests as Json[]).findIndex((entry) => !Array.isArray((entry?.request as Json | undefined)?.contents));
    if (missing >= 0) {
      options.error(
        response,
        400,
        'INVALID_ARGUMENT',
        `* BatchGenerateContentRequest.batch.input_config.requests.requests[${missing}].request.contents: contents is not specified`,
      );
      return;
    }
    const name = `batches/sim${randomBytes(9).toString('hex')}`;
    const now = new Date().toISOString();
    const simulated: SimulatedGeminiBatch = {
      model,
      requests: requests as { request: Json; metadata?: Json }[],
      responses: [],
      operation: {
        name,
        metadata: {
          '@type': batchType,
          model: `models/${model}`,
          displayName: batch.displayName ?? batch.display_name ?? '',
          createTime: now,
          updateTime: now,
          state: 'BATCH_STATE_PENDING',
          name,
        },
      },
    };
    restat(simulated);
    batches.set(name, simulated);
    if (held) waiting.push(name);
    else setTimeout(() => void run(name), options.processingDelayMs ?? 20).unref();
    sendJson(response, 200, simulated.operation);
  }

  async function handle(
    method: string,
    path: string,
    model: string | undefined,
    body: Json | undefined,
    response: ServerResponse,
  ): Promise<boolean> {
    if (model !== undefined && path.endsWith(':batchGenerateContent')) {
      if (method !== 'POST') return false;
      create(model, body, response);
      return true;
    }
    const match = /^\/v1beta\/(batches\/[^/:]+)(:cancel)?$/.exec(path);
    if (!match) return false;
    const batch = batches.get(decodeURIComponent(match[1] ?? ''));
    if (!batch) {
      options.error(response, 404, 'NOT_FOUND', 'Requested entity was not found.');
      return true;
    }
    if (match[2] === ':cancel' && method === 'POST') {
      const state = metadataOf(batch).state;
      if (state === 'BATCH_STATE_PENDING' || state === 'BATCH_STATE_RUNNING') {
        // Cancellation lands shortly after the call, like the real long-running operation.
        setTimeout(() => finish(batch, 'BATCH_STATE_CANCELLED'), 20).unref();
      }
      sendJson(response, 200, {});
    } else if (match[2] === undefined && method === 'GET') sendJson(response, 200, batch.operation);
    else options.error(response, 400, 'INVALID_ARGUMENT', 'Method not allowed');
    return true;
  }

  return {
    handle,
    batches,
    hold() {
      held = true;
    },
    async release() {
      held = false;
      for (const name of waiting.splice(0)) await run(name);
    },
    expire(name) {
      const batch = batches.get(name);
      if (batch && batch.operation.done !== true) finish(batch, 'BATCH_STATE_EXPIRED');
    },
  };
}
