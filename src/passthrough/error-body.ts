/**
 * An upstream error answer on the passthrough, read whole (at most UPSTREAM_MAX_RESPONSE_BYTES) and
 * scrubbed before any byte of it reaches the client, the audit log or a log line: some providers echo
 * the key they were sent (OpenAI: `Incorrect API key provided: sk-...`). Successful answers stay opaque
 * and streamed; an error body is small, and the only place a provider writes our credentials back.
 *
 * The scrubber is the process's (every configured key, the master key, key shapes) plus the credential
 * headers this target injects. A compressed error body is decoded first (gzip, deflate, br); one in an
 * encoding the gateway cannot read is withheld and replaced by a gateway error in the provider's shape.
 */
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { GatewayError } from '../core/errors.ts';
import { readBytes } from '../providers/upstream-body.ts';
import type { UpstreamResponse } from '../providers/upstream-client.ts';
import { createSecretScrubber, processScrubber, type SecretScrubber } from '../security/secret-scrubber.ts';
import type { PassthroughTarget } from './passthrough-targets.ts';

export interface ScrubbedErrorBody {
  bytes: Buffer;
  /** The client's headers for it: length set again, encoding dropped once decoded. */
  headers: Record<string, string>;
}

const targetScrubbers = new WeakMap<PassthroughTarget, SecretScrubber>();

/** The credentials a target sends, as a scrubber (`Bearer ` taken off, so the bare key is masked too). */
function targetScrubber(target: PassthroughTarget): SecretScrubber {
  let scrubber = targetScrubbers.get(target);
  if (!scrubber) {
    const values = Object.values(target.injected).flatMap((value) => [value, value.replace(/^Bearer\s+/i, '')]);
    scrubber = createSecretScrubber(values);
    targetScrubbers.set(target, scrubber);
  }
  return scrubber;
}

function decode(bytes: Buffer, encoding: string, maxBytes: number): Buffer | null {
  const options = { maxOutputLength: maxBytes };
  try {
    if (encoding === 'gzip' || encoding === 'x-gzip') return gunzipSync(bytes, options);
    if (encoding === 'deflate') return inflateSync(bytes, options);
    if (encoding === 'br') return brotliDecompressSync(bytes, options);
  } catch {
    return null;
  }
  return null;
}

/** Reads and scrubs the body of an upstream error answer (status 400 or more). */
export async function scrubbedErrorBody(
  response: UpstreamResponse,
  target: PassthroughTarget,
  headers: Record<string, string>,
): Promise<ScrubbedErrorBody> {
  const raw = await readBytes(response, 'an error body');
  const encoding = (response.headers['content-encoding'] ?? '').trim().toLowerCase();
  const result = { ...headers };
  let bytes: Buffer = raw;
  if (encoding !== '' && encoding !== 'identity') {
    const decoded = decode(raw, encoding, response.limits.maxResponseBytes);
    delete result['content-encoding'];
    if (decoded === null) {
      const error = new GatewayError(
        `Provider answered HTTP ${response.status} with a body in an encoding the gateway cannot read (${encoding})`,
        {
          status: response.status,
          code: `upstream_${response.status}`,
          type: 'upstream_error',
          provider: response.provider,
        },
      );
      bytes = Buffer.from(JSON.stringify(error.toBody()));
      result['content-type'] = 'application/json';
    } else bytes = decoded;
  }
  const text = bytes.toString('utf8');
  const scrubbed = targetScrubber(target).scrub(processScrubber.scrub(text));
  if (scrubbed !== text) bytes = Buffer.from(scrubbed, 'utf8');
  result['content-length'] = String(bytes.byteLength);
  return { bytes, headers: result };
}
