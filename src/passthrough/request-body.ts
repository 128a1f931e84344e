/**
 * The body of a passthrough request. A JSON body is read (up to BODY_SIZE_LIMIT, like every JSON
 * body the gateway takes) so that its model is known to the gateway's checks and records, and it
 * is sent on byte for byte; any other body (uploads, multipart, audio) is relayed as it is read,
 * with nothing held in memory beyond the chunk in flight. A JSON body nested deeper than MAX_JSON_DEPTH
 * is refused (400 `json_too_deep`, in the provider's error shape) before it is parsed, as on every route.
 */
import type { Readable } from 'node:stream';
import { GatewayError } from '../core/errors.ts';
import { jsonDepthExceeds, jsonTooDeep } from '../http/json-depth.ts';
import { type GatewayRequest, headerValue } from '../http/types.ts';
import type { Json } from '../providers/types.ts';

export interface PassthroughBody {
  /** The bytes of a JSON body, as sent. */
  bytes?: Buffer;
  /** The parsed JSON body when it is an object. */
  json?: Json;
  /** A body relayed unread. */
  stream?: Readable;
}

function hasBody(request: GatewayRequest): boolean {
  if (request.method === 'GET' || request.method === 'HEAD') return false;
  const length = headerValue(request.headers, 'content-length');
  return headerValue(request.headers, 'transfer-encoding') !== undefined || (length !== undefined && length !== '0');
}

export function isJsonContentType(contentType: string): boolean {
  return /^application\/(?:[\w.+-]*\+)?json\b/i.test(contentType.trim());
}

export async function readRequestBody(request: GatewayRequest, limitBytes: number, maxJsonDepth: number): Promise<PassthroughBody> {
  const stream = request.bodyStream;
  if (!stream || !hasBody(request)) return {};
  if (!isJsonContentType(headerValue(request.headers, 'content-type') ?? '')) return { stream };
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += (chunk as Buffer).byteLength;
    if (total > limitBytes) {
      throw new GatewayError(`Request body is larger than the limit of ${limitBytes} bytes (BODY_SIZE_LIMIT)`, {
        status: 413,
        code: 'request_too_large',
        retryable: false,
      });
    }
    chunks.push(chunk as Buffer);
  }
  const bytes = Buffer.concat(chunks);
  const text = bytes.toString('utf8');
  if (jsonDepthExceeds(text, maxJsonDepth)) throw jsonTooDeep(maxJsonDepth);
  const result: PassthroughBody = { bytes };
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) result.json = parsed as Json;
  } catch {
    // Relayed as it is: the provider answers a malformed body in its own words.
  }
  return result;
}
