/**
 * OpenAI batches run by the Gemini Batch API (https://ai.google.dev/gemini-api/docs/batch-mode, reference
 * https://ai.google.dev/api/batch-mode): the prepared lines (OpenAI /v1/chat/completions requests, one model per
 * batch since the model is in the URL) are translated with the Gemini provider's own chat translation
 * (src/providers/gemini/gemini-chat-translation.ts) into inline requests `{"request","metadata":{"key":custom_id}}`
 * and sent as `POST models/{model}:batchGenerateContent`, streamed from a spool file. Inline requests are bounded
 * by Gemini's 20 MB for the inline form (the guide's "Inline requests" limit); larger batches would
 * need the Gemini Files API, which the gateway does not use. The batch is polled with `GET batches/{id}`,
 * cancelled with `POST batches/{id}:cancel`, and its inlined responses become OpenAI output lines
 * (src/batches/gemini-batch-format.ts).
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ProviderConfig } from '../config/load-config.ts';
import { GatewayError } from '../core/errors.ts';
import { baseUrlOf, credentials } from '../passthrough/passthrough-targets.ts';
import { chatRequestToGemini } from '../providers/gemini/gemini-chat-translation.ts';
import { defaultGeminiBaseUrl, geminiHttpError } from '../providers/gemini/create-gemini-provider.ts';
import { readJson, rejectUnsuccessful } from '../providers/upstream-body.ts';
import type { UpstreamClient } from '../providers/upstream-client.ts';
import type { BatchProvider, ProviderBatch } from './batch-provider.ts';
import type { StoredBatch } from './batch-store.ts';
import { batchFromGemini, inlinedResponses, lineFromGemini } from './gemini-batch-format.ts';
import { jsonlLines } from './jsonl-lines.ts';
import { requireTranslatedEndpoint, translatedBatchEndpoint } from './translated-endpoint.ts';

type Json = Record<string, unknown>;

export const geminiBatchLimits = { maxInlineBytes: 20 * 1024 * 1024 };
/** No per-batch request count is documented for inline requests; the byte limit bounds them. The gateway keeps OpenAI's. */
const maxRequests = 50_000;
const chatEndpoint = translatedBatchEndpoint;
const maxLineBytes = 16 * 1024 * 1024;

function lineError(index: number, message: string, status = 400, code = 'invalid_batch_line'): GatewayError {
  return new GatewayError(`Batch line ${index}: ${message}`, { status, code, param: 'requests', retryable: false });
}

/** Translates one prepared OpenAI request line into an inline Gemini batch request; returns it with its model. */
export function geminiBatchRequest(line: Json, index: number): { model: string; item: Json } {
  const url = line.url ?? chatEndpoint;
  if (url !== chatEndpoint) throw lineError(index, `Gemini batches run ${chatEndpoint} requests only, not '${String(url)}'`);
  const { stream: _stream, stream_options: _options, ...body } = line.body as Json;
  try {
    const request = chatRequestToGemini(body, []);
    return { model: request.model, item: { request: request.body, metadata: { key: String(line.custom_id) } } };
  } catch (error) {
    if (error instanceof GatewayError) throw lineError(index, error.message, error.status, error.code);
    throw error;
  }
}

export function createGeminiBatches(config: ProviderConfig, client: UpstreamClient, spoolDir: string): BatchProvider {
  const base = (baseUrlOf(config) ?? defaultGeminiBaseUrl).replace(/\/+$/, '');
  const { injected } = credentials(config);

  async function send(url: string, method: 'GET' | 'POST', signal?: AbortSignal, body?: { stream: Readable | string; bytes: number }) {
    const response = await client.send({
      provider: config.name,
      url,
      method,
      headers: body ? { ...injected, 'content-type': 'application/json', 'content-length': String(body.bytes) } : injected,
      ...(body ? { body: body.stream } : {}),
      ...(signal ? { signal } : {}),
    });
    await rejectUnsuccessful(response, geminiHttpError);
    return response;
  }

  const batchUrl = (batch: StoredBatch, suffix = '') =>
    `${base}/batches/${encodeURIComponent(batch.providerBatchId.replace(/^batches\//, ''))}${suffix}`;

  const reported = (operation: Json, context: { endpoint: string; metadata: unknown; cancelRequested: boolean }): ProviderBatch => {
    const object = batchFromGemini(operation, context);
    return { id: String(operation.name ?? ''), status: String(object.status), object };
  };

  const context = (batch: StoredBatch, cancelRequested = batch.object.gateway_cancel_requested === true) => ({
    endpoint: batch.endpoint,
    metadata: batch.object.metadata ?? null,
    cancelRequested,
  });

  /** Writes `{"batch":{...,"inputConfig":{"requests":{"requests":[...]}}}}` to a spool file within the inline limit. */
  async function spoolRequests(inputPath: string): Promise<{ path: string; bytes: number; model: string }> {
    const path = join(spoolDir, `modelgate-gemini-batch-${randomUUID()}.json`);
    const output = createWriteStream(path, { mode: 0o600 });
    output.on('error', () => {});
    let bytes = 0;
    let model = '';
    const write = async (text: string) => {
      bytes += Buffer.byteLength(text);
      if (bytes > geminiBatchLimits.maxInlineBytes) {
        throw new GatewayError(`A Gemini batch of inline requests holds at most ${geminiBatchLimits.maxInlineBytes} bytes (20 MB)`, {
          status: 413,
          code: 'batch_too_large',
          param: 'requests',
          retryable: false,
        });
      }
      if (!output.write(text)) await once(output, 'drain');
    };
    try {
      await write(`{"batch":{"displayName":${JSON.stringify(`modelgate-${randomUUID()}`)},"inputConfig":{"requests":{"requests":[`);
      let index = 0;
      for await (const text of jsonlLines(createReadStream(inputPath), maxLineBytes, 'the batch input')) {
        index += 1;
        const translated = geminiBatchRequest(JSON.parse(text) as Json, index);
        if (index === 1) model = translated.model;
        else if (translated.model !== model) {
          throw lineError(index, `a Gemini batch runs one model ('${model}'), this line asks for '${translated.model}'`);
        }
        await write(`${index > 1 ? ',' : ''}${JSON.stringify(translated.item)}`);
      }
      await write(']}}}}');
      output.end();
      await once(output, 'finish');
    } catch (error) {
      output.destroy();
      await rm(path, { force: true });
      throw error;
    }
    return { path, bytes, model };
  }

  return {
    name: config.name,
    type: 'gemini',
    maxRequests,
    async create(input, options) {
      requireTranslatedEndpoint('Gemini', options.endpoint);
      const spooled = await spoolRequests(input.path);
      try {
        const url = `${base}/models/${encodeURIComponent(spooled.model)}:batchGenerateContent`;
        const response = await send(url, 'POST', options.signal, { stream: createReadStream(spooled.path), bytes: spooled.bytes });
        return reported(await readJson(response), {
          endpoint: options.endpoint,
          metadata: options.metadata ?? null,
          cancelRequested: false,
        });
      } finally {
        await rm(spooled.path, { force: true });
      }
    },
    async retrieve(batch, signal) {
      return reported(await readJson(await send(batchUrl(batch), 'GET', signal)), context(batch));
    },
    async cancel(batch, signal) {
      // batches.cancel answers an empty object; the batch is read again to report where it is.
      await readJson(await send(batchUrl(batch, ':cancel'), 'POST', signal, { stream: '{}', bytes: 2 }));
      return reported(await readJson(await send(batchUrl(batch), 'GET', signal)), context(batch, true));
    },
    async results(batch, signal) {
      const operation = await readJson(await send(batchUrl(batch), 'GET', signal));
      const ended = Number(batch.object.completed_at ?? batch.object.cancelled_at ?? batch.object.expired_at ?? batch.object.failed_at);
      const lineContext = {
        batchId: batch.id,
        model: typeof batch.object.gateway_model === 'string' ? batch.object.gateway_model : '',
        created: Number.isFinite(ended) && ended > 0 ? ended : Math.floor(Date.now() / 1000),
      };
      async function* lines(): AsyncGenerator<Uint8Array> {
        for (const [position, item] of inlinedResponses(operation).entries()) {
          yield Buffer.from(`${JSON.stringify(lineFromGemini(item, position, lineContext))}\n`);
        }
      }
      return lines();
    },
  };
}
