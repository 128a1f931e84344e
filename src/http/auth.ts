/** Master key check in constant time. Accepts `Authorization: Bearer`, `x-api-key` and `x-goog-api-key`. */
import { hash } from 'node:crypto';
import { GatewayError } from '../core/errors.ts';
import { type GatewayRequest, headerValue } from './types.ts';

/**
 * SHA-256 as base64 text. A one-shot hash to a string: about 5x cheaper per call than to a Buffer compared
 * with timingSafeEqual (1.6 µs against 0.33 µs here; a Buffer's backing store costs an allocation and a GC
 * handle) and a third cheaper than createHash().update().digest().
 */
function digest(value: string): string {
  return hash('sha256', value, 'base64');
}

/**
 * Compares two digests of the same length without an early exit. Digests, not secrets, are compared, so
 * even a leak of how many leading characters match would say nothing usable about the key.
 */
function sameDigest(left: string, right: string): boolean {
  if (left.length !== right.length) return false;
  let difference = 0;
  for (let index = 0; index < left.length; index++) difference |= left.charCodeAt(index) ^ right.charCodeAt(index);
  return difference === 0;
}

export interface Authenticator {
  /** Returns a key id for records, or throws a 401 GatewayError. */
  authenticate(headers: GatewayRequest['headers']): string | null;
}

export function presentedKey(headers: GatewayRequest['headers']): string | undefined {
  const authorization = headerValue(headers, 'authorization');
  if (authorization !== undefined) {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    return match?.[1]?.trim();
  }
  return headerValue(headers, 'x-api-key') ?? headerValue(headers, 'x-goog-api-key');
}

export function createAuthenticator(masterKey: string | undefined): Authenticator {
  if (!masterKey) return { authenticate: () => null };
  const expected = digest(masterKey);
  // A short, non-reversible id of the master key for usage records.
  const keyId = `master:${Buffer.from(expected, 'base64').toString('hex').slice(0, 8)}`;
  return {
    authenticate(headers) {
      const presented = presentedKey(headers);
      if (presented === undefined) {
        throw new GatewayError('Missing API key: send Authorization: Bearer <MODELGATE_MASTER_KEY>', {
          status: 401,
          code: 'missing_api_key',
          retryable: false,
        });
      }
      if (!sameDigest(digest(presented), expected)) {
        throw new GatewayError('Invalid API key', { status: 401, code: 'invalid_api_key', retryable: false });
      }
      return keyId;
    },
  };
}
