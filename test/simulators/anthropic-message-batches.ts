/**
 * Anthropic's Message Batches API, mounted by the Anthropic simulator (test/simulators/anthropic-simulator.ts).
 *
 * Formats follow Anthropic's API reference:
 * - Create: https://docs.anthropic.com/en/api/creating-message-batches — `POST /v1/messages/batches` with
 *   `{"requests":[{"custom_id","params"}]}`; `custom_id` matches ^[a-zA-Z0-9_-]{1,64}$ and is unique in the
 *   batch; at most 100,000 requests or 256 MB. `params` are Messages API parameters (stream not allowed).
 * - Batch object: https://docs.anthropic.com/en/api/retrieving-message-batches — {"id":"msgbatch_...","type":
 *   "message_batch","processing_status":"in_progress"|"canceling"|"ended","request_counts":{"processing",
 *   "succeeded","errored","canceled","expired"},"ended_at","created_at","expires_at","archived_at",
 *   "cancel_initiated_at","results_url"} with RFC 3339 times; `results_url` is set once the batch has ended.
 * - Cancel: https://docs.anthropic.com/en/api/canceling-message-batches — `POST .../{id}/cancel`, the batch goes
 *   to `canceling`, then `ended` with the requests that had not run counted as `canceled`.
 * - Results: https://docs.anthropic.com/en/api/retrieving-message-batch-results — JSONL, one line per request
 *   in any order: {"custom_id","result":{"type":"succeeded","message"}|{"type":"errored","error":{"type":"error",
 *   "error":{"type","message"}}}|{"type":"canceled"}|{"type":"expired"}}; before the batch ends the API refuses.
 * Each request runs through the simulator's own `POST /v1/messages`, so answers and errors (`sim-server-error`,
 * invalid params) are the Messages API's. A batch runs `processingDelayMs` after creation, unless `hold()` was
 * called (then at `release()`); `expire(id)` ends a held batch with its pending requests expired, as a batch
 * that passed its 24 hours. `resultsOrigin` makes `results_url` point at another server (hostile upstream).
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';

type Json = Record<string, unknown>;

export interface SimulatedMessageBatch {
  object: Json;
  requests: { custom_id: string; params: Json }[];
  results: Map<string, Json>;
}

export interface MessageBatchesSimulator {
  /** Answers a /v1/messages/batches request; false when the path is not one. */
  handle(method: string, path: string, body: Json | undefined, response: ServerResponse): Promise<boolean>;
  batches: Map<string, SimulatedMessageBatch>;
  hold(): void;
  release(): Promise<void>;
  expire(id: string): void;
  /** Origin put in results_url instead of the simulator's (a hostile upstream); null: the simulator's. */
  resultsOrigin: string | null;
}

export interface MessageBatchesOptions {
  /** The simulator's origin (results_url, and where each request is run). */
  origin: () => string;
  apiKey: string | undefined;
  processingDelayMs?: number;
  error(response: ServerResponse, status: number, type: string, message: string): void;
}

const customIdPattern = /^[a-zA-Z0-9_-]{1,64}$/;
const maxRequests = 100_000;
const iso = (time = Date.now()) => new Date(time).toISOString();

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

export function createMessageBatchesSimulator(options: MessageBatchesOptions): MessageBatchesSimulator {
  const batches = new Map<string, SimulatedMessageBatch>();
  let held = false;
  const waiting: string[] = [];
  const simulator: MessageBatchesSimulator = { handle, batches, hold, release, expire, resultsOrigin: null };

  function counts(batch: SimulatedMessageBatch): Json {
    const tally = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 } as Record<string, number>;
    for (const request of batch.requests) {
      const type = String((batch.results.get(request.custom_id)?.result as Json | undefined)?.type ?? 'processing');
      tally[type] = (tally[type] ?? 0) + 1;
    }
    return tally;
  }

  function end(batch: SimulatedMessageBatch, pending: 'canceled' | 'expired' | null): void {
    if (pending)
      for (const request of batch.requests) {
        if (!batch.results.has(request.custom_id))
          batch.results.set(request.custom_id, { custom_id: request.custom_id, result: { type: pending } });
      }
    const id = String(batch.object.id);
    batch.object.processing_status = 'ended';
    batch.object.ended_at = iso();
    batch.object.results_url = `${simulator.resultsOrigin ?? options.origin()}/v1/messages/batches/${id}/results`;
    batch.object.request_counts = counts(batch);
  }

  async function runOne(request: { custom_id: string; params: Json }): Promise<Json> {
    const answer = await fetch(`${options.origin()}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}),
      },
      body: JSON.stringify(request.params),
    });
    const body = (await answer.json()) as Json;
    if (answer.ok) return { custom_id: request.custom_id, result: { type: 'succeeded', message: body } };
    return { custom_id: request.custom_id, result: { type: 'errored', error: body } };
  }

  async function run(id: string): Promise<void> {
    const batch = batches.get(id);
    if (batch?.object.processing_status !== 'in_progress') return;
    for (const request of batch.requests) {
      if (batch.object.processing_status !== 'in_progress') break;
      if (!batch.results.has(request.custom_id)) batch.results.set(request.custom_id, await runOne(request));
      batch.object.request_counts = counts(batch);
    }
    if (batch.object.processing_status === 'in_progress') end(batch, null);
  }

  function schedule(id: string): void {
    if (held) waiting.push(id);
    else setTimeout(() => void run(id), options.processingDelayMs ?? 20).unref();
  }

  function hold(): void {
    held = true;
  }

  async function release(): Promise<void> {
    held = false;
    for (const id of waiting.splice(0)) await run(id);
  }

  function expire(id: string): void {
    const batch = batches.get(id);
    if (batch && batch.object.processing_status !== 'ended') end(batch, 'expired');
  }

  /** Why the API refuses a create request, or null. */
  function refusal(requests: unknown): [status: number, type: string, message: string] | null {
    if (!Array.isArray(requests) || requests.length === 0)
      return [400, 'invalid_request_error', 'requests: Field required (a non-empty list)'];
    if (requests.length > maxRequests) return [413, 'request_too_large', `A batch holds at most ${maxRequests} requests`];
    const seen = new Set<string>();
    for (const [index, request] of (requests as Json[]).entries()) {
      const customId = request?.custom_id;
      if (typeof customId !== 'string' || !customIdPattern.test(customId)) {
        return [400, 'invalid_request_error', `requests.${index}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`];
      }
      if (seen.has(customId)) return [400, 'invalid_request_error', `Duplicate custom_id: ${customId}`];
      seen.add(customId);
      const params = request.params as Json | undefined;
      if (!params || typeof params !== 'object') return [400, 'invalid_request_error', `requests.${index}.params: Field required`];
      if (params.stream === true)
        return [400, 'invalid_request_error', `requests.${index}.params.stream: streaming is not supported in batches`];
    }
    return null;
  }

  function create(body: Json | undefined, response: ServerResponse): void {
    const requests = body?.requests as Json[];
    const refused = refusal(requests);
    if (refused) {
      options.error(response, ...refused);
      return;
    }
    const id = `msgbatch_sim${randomBytes(9).toString('hex')}`;
    const created = Date.now();
    const batch: SimulatedMessageBatch = {
      object: {
        id,
        type: 'message_batch',
        processing_status: 'in_progress',
        request_counts: { processing: requests.length, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
        ended_at: null,
        created_at: iso(created),
        expires_at: iso(created + 24 * 3600 * 1000),
        archived_at: null,
        cancel_initiated_at: null,
        results_url: null,
      },
      requests: requests as { custom_id: string; params: Json }[],
      results: new Map(),
    };
    batches.set(id, batch);
    schedule(id);
    sendJson(response, 200, batch.object);
  }

  async function handle(method: string, path: string, body: Json | undefined, response: ServerResponse): Promise<boolean> {
    if (path === '/v1/messages/batches' && method === 'POST') {
      create(body, response);
      return true;
    }
    const match = /^\/v1\/messages\/batches\/([^/]+)(\/cancel|\/results)?$/.exec(path);
    if (!match) return false;
    const batch = batches.get(decodeURIComponent(match[1] ?? ''));
    if (!batch) {
      options.error(response, 404, 'not_found_error', 'Not found');
      return true;
    }
    const action = match[2];
    if (action === undefined && method === 'GET') sendJson(response, 200, batch.object);
    else if (action === '/cancel' && method === 'POST') {
      if (batch.object.processing_status === 'in_progress') {
        batch.object.processing_status = 'canceling';
        batch.object.cancel_initiated_at = iso();
        // Cancellation finishes shortly after: requests that had not run are canceled.
        setTimeout(() => end(batch, 'canceled'), 20).unref();
      }
      sendJson(response, 200, batch.object);
    } else if (action === '/results' && method === 'GET') {
      if (batch.object.processing_status !== 'ended') {
        options.error(
          response,
          400,
          'invalid_request_error',
          `Message Batch ${String(batch.object.id)} has not ended yet: results are not available`,
        );
      } else {
        const text = [...batch.results.values()].map((line) => `${JSON.stringify(line)}\n`).join('');
        response.writeHead(200, { 'content-type': 'application/binary', 'content-length': Buffer.byteLength(text) });
        response.end(text);
      }
    } else options.error(response, 405, 'invalid_request_error', 'Method not allowed');
    return true;
  }

  return simulator;
}
