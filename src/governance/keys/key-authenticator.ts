/**
 * Accepts managed keys wherever the master key is accepted (Bearer, x-api-key, x-goog-api-key): a
 * presented `mg-` key is hashed and looked up in the key store's memory index (no I/O per request);
 * anything else goes to the master-key check. The master key stays the root: it is checked unchanged.
 */
import { GatewayError } from '../../core/errors.ts';
import { type Authenticator, presentedKey } from '../../http/auth.ts';
import type { KeyStore } from './key-store.ts';
import { hashSecret, keyRefusal, managedKeyPrefix } from './managed-key.ts';

const refusalMessages: Record<string, [string, string]> = {
  expired: ['This API key has expired', 'expired_api_key'],
  deactivated: ['This API key is deactivated', 'inactive_api_key'],
  revoked: ['Invalid API key', 'invalid_api_key'],
};

export interface ManagedKeyAuthenticatorOptions {
  now?: () => number;
  /** Called once per process with each managed secret that authenticated (for the secrets scrubber). */
  onSecretSeen?: (secret: string, keyId: string) => void;
}

export function createManagedKeyAuthenticator(
  master: Authenticator,
  store: KeyStore,
  options: ManagedKeyAuthenticatorOptions = {},
): Authenticator {
  const now = options.now ?? Date.now;
  const seen = new Set<string>();
  return {
    authenticate(headers) {
      const presented = presentedKey(headers);
      if (presented?.startsWith(managedKeyPrefix)) {
        const hash = hashSecret(presented);
        const key = store.byHash(hash);
        if (key) {
          const refusal = keyRefusal(key, now());
          if (refusal) {
            const [message, code] = refusalMessages[refusal] ?? ['Invalid API key', 'invalid_api_key'];
            throw new GatewayError(message, { status: 401, code, retryable: false, headers: { 'x-should-retry': 'false' } });
          }
          if (!seen.has(hash)) {
            seen.add(hash);
            options.onSecretSeen?.(presented, key.id);
          }
          return key.id;
        }
      }
      return master.authenticate(headers);
    },
  };
}
