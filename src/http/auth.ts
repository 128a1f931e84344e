/** Master key check in constant time. Accepts `Authorization: Bearer`, `x-api-key` and `x-goog-api-key`. */
import { hash, timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../core/errors.ts';
import { type GatewayRequest, headerValue } from './types.ts';

function digest(value: string): Buffer {
  // One-shot hash: about a third cheaper per call than createHash().update().digest().
  return hash('sha256', value, 'buffer');
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
  const keyId = `master:${expected.toString('hex').slice(0, 8)}`;
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
      if (!timingSafeEqual(digest(presented), expected)) {
        throw new GatewayError('Invalid API key', { status: 401, code: 'invalid_api_key', retryable: false });
      }
      return keyId;
    },
  };
}
