/**
 * OpenAI batches run as Anthropic Message Batches (https://docs.anthropic.com/en/api/creating-message-batches):
 * each prepared line (an OpenAI /v1/chat/completions request) is translated with the Anthropic provider's own
 * translation (src/providers/anthropic/anthropic-request.ts) into `{"custom_id","params"}` and the batch is sent
 * inline as `POST /v1/messages/batches`, streamed from a spool file. Anthropic's limits are checked first: at most
 * 100,000 requests or 256 MB per batch (https://docs.anthropic.com/en/api/creating-message-batches, "Batch
 * limitations" in https://docs.anthropic.com/en/docs/build-with-claude/batch-processing), and `custom_id`
 * matching ^[a-zA-Z0-9_-]{1,64}$. Retrieve, cancel and the `results_url` JSONL map back to OpenAI's shapes
 * (src/batches/anthropic-batch-format.ts).
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
import { toAnthropicRequest } from '../providers/anthropic/anthropic-request.ts';
import { anthropicHttpError, defaultAnthropicBaseUrl } from '../providers/anthropic/create-anthropic-provider.ts';
import { readJson, rejectUnsuccessful } from '../providers/upstream-body.ts';
import type { UpstreamClient, UpstreamResponse } from '../providers/upstream-client.ts';
import { batchFromAnthropic, epochSeconds, lineFromAnthropic } from './anthropic-batch-format.ts';
import type { BatchProvider, ProviderBatch } from './batch-provider.ts';
import type { StoredBatch } from './batch-store.ts';
import { jsonlLines } from './jsonl-lines.ts';
import { requireTranslatedEndpoint, translatedBatchEndpoint } from './translated-endpoint.ts';

type Json = Record<string, unknown>;

export const anthropicBatchLimits = { maxRequests: 100_000, maxBytes: 256 * 1024 * 1024 };
const customIdPattern = /^[a-zA-Z0-9_-]{1,64}$/;
const chatEndpoint = translatedBatchEndpoint;
const maxLineBytes = 16 * 1024 * 1024;

function lineError(index: number, message: string, status = 400, code = 'invalid_batch_line'): GatewayError {
  return new GatewayError(`Batch line ${index}: ${message}`, { status, code, param: 'requests', retryable: false });
}

/** Translates one prepared OpenAI request line into a Message Batch request. */
export function anthropicBatchRequest(line: Json, index: number): Json {
  const url = line.url ?? chatEndpoint;
  if (url !== chatEndpoint) throw lineError(index, `Anthropic batches run ${chatEndpoint} requests only, not '${String(url)}'`);
  const customId = String(line.custom_id);
  if (!customIdPattern.test(customId)) {
    throw lineError(index, `Anthropic needs a 'custom_id' of 1 to 64 letters, digits, '-' or '_', got '${customId.slice(0, 80)}'`);
  }
  // A batch answers in full: stream and its options have no meaning there.
  const { stream: _stream, stream_options: _options, ...body } = line.body as Json;
  try {
    return { custom_id: customId, params: toAnthropicRequest(body).body };
  } catch (error) {
    if (error instanceof GatewayError) throw lineError(index, error.message, error.status, error.code);
    throw error;
  }
}

export function createAnthropicBatches(config: ProviderConfig, client: UpstreamClient, spoolDir: string): BatchProvider {
  const origin = (baseUrlOf(config) ?? defaultAnthropicBaseUrl).replace(/\/v1$/, '');
  const { injected, defaults } = credentials(config);
  const headers: Record<string, string> = { ...defaults, ...injected };
  const batchesUrl = `${origin}/v1/messages/batches`;

  async function send(url: string, method: 'GET' | 'POST', signal?: AbortSignal, body?: { stream: Readable; bytes: number }) {
    const response: UpstreamResponse = await client.send({
      provider: config.name,
      url,
      method,
      headers: body ? { ...headers, 'content-type': 'application/json', 'content-length': String(body.bytes) } : headers,
      ...(body ? { body: body.stream } : {}),
      ...(signal ? { signal } : {}),
    });
    await rejectUnsuccessful(response, anthropicHttpError);
    return response;
  }

  const reported = (object: Json, batch: { endpoint: string; metadata: unknown }): ProviderBatch => {
    const mapped = batchFromAnthropic(object, batch);
    return { id: String(object.id ?? ''), status: String(mapped.status), object: mapped };
  };

  /** Writes `{"requests":[...]}` to a spool file, line by line, within Anthropic's limits. */
  async function spoolRequests(inputPath: string): Promise<{ path: string; bytes: number }> {
    const path = join(spoolDir, `modelgate-anthropic-batch-${randomUUID()}.json`);
    const output = createWriteStream(path, { mode: 0o600 });
    // Write failures surface through `drain`/`finish`; a write still in flight when the file is abandoned is no crash.
    output.on('error', () => {});
    let bytes = 0;
    const write = async (text: string) => {
      bytes += Buffer.byteLength(text);
      if (bytes > anthropicBatchLimits.maxBytes) {
        throw new GatewayError(`An Anthropic batch holds at most ${anthropicBatchLimits.maxBytes} bytes of requests (256 MB)`, {
          status: 413,
          code: 'batch_too_large',
          param: 'requests',
          retryable: false,
        });
      }
      if (!output.write(text)) await once(output, 'drain');
    };
    try {
      await write('{"requests":[');
      let index = 0;
      for await (const text of jsonlLines(createReadStream(inputPath), maxLineBytes, 'the batch input')) {
        index += 1;
        await write(`${index > 1 ? ',' : ''}${JSON.stringify(anthropicBatchRequest(JSON.parse(text) as Json, index))}`);
      }
      await write(']}');
      output.end();
      await once(output, 'finish');
    } catch (error) {
      output.destroy();
      await rm(path, { force: true });
      throw error;
    }
    return { path, bytes };
  }

  /** The results URL: Anthropic's `results_url` when it is on the configured origin (the key goes there), else the documented path. */
  function resultsUrl(batch: StoredBatch): string {
    const given = batch.object.gateway_results_url;
    if (typeof given === 'string') {
      try {
        if (new URL(given).origin === new URL(origin).origin) return given;
      } catch {
        // not a URL: use the documented path
      }
    }
    return `${batchesUrl}/${encodeURIComponent(batch.providerBatchId)}/results`;
  }

  const base = (batch: StoredBatch) => ({ endpoint: batch.endpoint, metadata: batch.object.metadata ?? null });

  return {
    name: config.name,
    type: 'anthropic',
    maxRequests: anthropicBatchLimits.maxRequests,
    async create(input, options) {
      requireTranslatedEndpoint('Anthropic', options.endpoint);
      const spooled = await spoolRequests(input.path);
      try {
        const response = await send(batchesUrl, 'POST', options.signal, { stream: createReadStream(spooled.path), bytes: spooled.bytes });
        return reported(await readJson(response), { endpoint: options.endpoint, metadata: options.metadata ?? null });
      } finally {
        await rm(spooled.path, { force: true });
      }
    },
    async retrieve(batch, signal) {
      const response = await send(`${batchesUrl}/${encodeURIComponent(batch.providerBatchId)}`, 'GET', signal);
      return reported(await readJson(response), base(batch));
    },
    async cancel(batch, signal) {
      const response = await send(`${batchesUrl}/${encodeURIComponent(batch.providerBatchId)}/cancel`, 'POST', signal);
      return reported(await readJson(response), base(batch));
    },
    async results(batch, signal) {
      const response = await send(resultsUrl(batch), 'GET', signal);
      const ended = Number(batch.object.completed_at ?? batch.object.cancelled_at ?? batch.object.expired_at);
      const created = Number.isFinite(ended) && ended > 0 ? ended : (epochSeconds(new Date().toISOString()) ?? 0);
      async function* lines(): AsyncGenerator<Uint8Array> {
        for await (const text of jsonlLines(response.body, maxLineBytes, 'the Anthropic batch results')) {
          let line: Json;
          try {
            line = JSON.parse(text) as Json;
          } catch {
            throw new GatewayError(`${config.name}: a Message Batch result line is not JSON`, {
              status: 502,
              code: 'upstream_invalid_json',
              type: 'upstream_error',
              provider: config.name,
            });
          }
          yield Buffer.from(`${JSON.stringify(lineFromAnthropic(line, batch.id, created))}\n`);
        }
      }
      return lines();
    },
  };
}
