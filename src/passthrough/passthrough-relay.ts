/**
 * The terminal of a passthrough call in the pipeline: sends the request as the client wrote it and hands the
 * upstream answer back as an opaque StreamResult whose chunks carry the raw bytes (`StreamChunk.bytes`), so
 * that the stages an opaque call runs (key access, rate limits, budgets) can wrap it like any other result:
 * refuse before it starts, release at its end, and read its usage (taken from the native body or stream).
 */
import type { UpstreamClient, UpstreamRequest } from '../providers/upstream-client.ts';
import type { StreamChunk, StreamResult } from '../providers/types.ts';
import { clientResponseHeaders } from './passthrough-headers.ts';
import { scrubbedErrorBody } from './error-body.ts';
import { sendPassthrough, type SendOptions } from './passthrough-send.ts';
import type { PassthroughTarget } from './passthrough-targets.ts';
import { createUsageTap, type UsageTap } from './usage-tap.ts';

/** A JSON answer up to this size is kept whole to be read (and audited); a larger one only in its tail. */
const wholeJsonBytes = 4 * 1024 * 1024;

export interface Relayed {
  result: StreamResult;
  /** False for an answer without a body (HEAD, 204, 304): its chunks are empty. */
  hasBody: boolean;
  /** Usage and body reading of an answer with a body. */
  tap: UsageTap | null;
}

async function* bytesOnce(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

async function* byteChunks(body: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): AsyncGenerator<StreamChunk> {
  for await (const bytes of body) yield { data: '', bytes };
}

export async function relayPassthrough(
  client: UpstreamClient,
  target: PassthroughTarget,
  upstreamRequest: UpstreamRequest,
  options: SendOptions,
): Promise<Relayed> {
  const response = await sendPassthrough(client, upstreamRequest, options);
  let headers: Record<string, string> = { ...clientResponseHeaders(response.headers), 'x-modelgate-provider': target.name };
  const method = upstreamRequest.method ?? 'GET';
  if (method === 'HEAD' || response.status === 204 || response.status === 304) {
    await response.body.dump().catch(() => {});
    return { result: { kind: 'stream', status: response.status, headers, chunks: byteChunks([]), usage: () => null }, hasBody: false, tap: null };
  }
  // An error answer is read whole and scrubbed first: providers may echo the key they were sent.
  let source: AsyncIterable<Uint8Array> = response.body;
  let contentEncoding = response.headers['content-encoding'];
  if (response.status >= 400) {
    const scrubbed = await scrubbedErrorBody(response, target, headers);
    source = bytesOnce(scrubbed.bytes);
    contentEncoding = scrubbed.headers['content-encoding'];
    headers = scrubbed.headers;
  }
  // Usage is read within the limits every upstream read has (UPSTREAM_MAX_RESPONSE_BYTES, UPSTREAM_MAX_EVENT_BYTES).
  const tap = createUsageTap(target.format, headers['content-type'] ?? '', contentEncoding, source, {
    maxJsonBytes: Math.min(wholeJsonBytes, response.limits.maxResponseBytes),
    maxEventBytes: response.limits.maxEventBytes,
  });
  const result: StreamResult = { kind: 'stream', status: response.status, headers, chunks: byteChunks(tap.body), usage: () => tap.reading().usage };
  return { result, hasBody: true, tap };
}

/** The bytes of an opaque result, as the stages left it wrapped. */
export async function* relayedBytes(result: StreamResult): AsyncGenerator<Uint8Array> {
  for await (const chunk of result.chunks) if (chunk.bytes) yield chunk.bytes;
}
