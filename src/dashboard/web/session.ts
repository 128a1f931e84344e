/**
 * The signed-in admin: the key is kept in sessionStorage (this tab only, gone when it closes) and sent
 * as a Bearer token; GET /admin/api/v1/session says what it may do.
 */
import { adminApi } from './api.ts';

const storageKey = 'modelgate.dashboard.key';

export interface Session {
  kind: 'master' | 'managed_key' | 'open';
  key_id: string | null;
  name: string | null;
  scopes: string[];
  read_only: boolean;
}

export interface SignedIn {
  key: string | null;
  session: Session;
}

export function storedKey(): string | null {
  try {
    return sessionStorage.getItem(storageKey);
  } catch {
    return null;
  }
}

export function storeKey(key: string | null): void {
  try {
    if (key === null) sessionStorage.removeItem(storageKey);
    else sessionStorage.setItem(storageKey, key);
  } catch {
    // storage refused (private mode): the session lasts as long as the page
  }
}

export type SignInResult = { ok: true; signedIn: SignedIn } | { ok: false; message: string };

async function probe(key: string | null, path: string): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  return fetch(`${adminApi}${path}`, { headers, credentials: 'omit', cache: 'no-store' });
}

/**
 * Asks the gateway who `key` is. Without the session endpoint (an older gateway: 404), a key the
 * usage summary accepts is taken for the master key (full access).
 */
export async function resolveSession(key: string | null): Promise<SignInResult> {
  let response: Response;
  try {
    response = await probe(key, '/session');
  } catch {
    return { ok: false, message: 'The gateway could not be reached.' };
  }
  if (response.status === 404) {
    const fallback = await probe(key, '/usage/summary?days=1');
    if (fallback.ok) {
      const kind = key ? 'master' : 'open';
      return { ok: true, signedIn: { key, session: { kind, key_id: null, name: null, scopes: ['admin'], read_only: false } } };
    }
    response = fallback;
  }
  if (response.ok) {
    const session = (await response.json()) as Session;
    return { ok: true, signedIn: { key, session } };
  }
  if (response.status === 401)
    return { ok: false, message: key ? 'This key is not valid (unknown, revoked or expired).' : 'Sign in with a key.' };
  if (response.status === 403) return { ok: false, message: 'This key has no admin scope (admin or admin:read is needed).' };
  return { ok: false, message: `The gateway answered HTTP ${response.status}.` };
}
