/**
 * What a request asks of the cache, from its headers: `Cache-Control: no-cache` (do not look up,
 * still store), `no-store` (neither look up nor store), `max-age=N` (only entries younger than N s),
 * `X-Cache-TTL: N` (keep the new entry N s), `X-Cache-Type: exact|semantic|both` (which layers to use).
 * Directives follow RFC 9111 §5.2.1 (request Cache-Control). A malformed X-Cache-TTL or X-Cache-Type is
 * refused with 400 rather than ignored.
 */
import { invalidRequest } from '../core/errors.ts';
import { type GatewayRequest, headerValue } from '../http/types.ts';

export interface CacheControls {
  lookup: boolean;
  store: boolean;
  /** Oldest acceptable entry, in seconds; null for any. */
  maxAgeSeconds: number | null;
  /** TTL of a stored entry, in seconds; null for the configured one. */
  ttlSeconds: number | null;
  exact: boolean;
  semantic: boolean;
}

const defaultControls: CacheControls = { lookup: true, store: true, maxAgeSeconds: null, ttlSeconds: null, exact: true, semantic: true };

const maxTtlSeconds = 365 * 86_400;

export function readCacheControls(headers: GatewayRequest['headers']): CacheControls {
  const cacheControl = headerValue(headers, 'cache-control');
  const ttl = headerValue(headers, 'x-cache-ttl');
  const type = headerValue(headers, 'x-cache-type');
  if (cacheControl === undefined && ttl === undefined && type === undefined) return defaultControls;
  const controls = { ...defaultControls };
  for (const directive of (cacheControl ?? '').split(',')) {
    const [rawName, rawValue] = directive.split('=', 2);
    const name = rawName?.trim().toLowerCase();
    if (name === 'no-cache') controls.lookup = false;
    else if (name === 'no-store') {
      controls.lookup = false;
      controls.store = false;
    } else if (name === 'max-age') {
      const seconds = Number(rawValue?.trim().replace(/^"|"$/g, ''));
      // RFC 9111: an invalid max-age is treated as stale, i.e. no entry qualifies.
      controls.maxAgeSeconds = Number.isFinite(seconds) && seconds >= 0 ? Math.floor(seconds) : 0;
    }
  }
  if (ttl !== undefined) {
    const seconds = Number(ttl.trim());
    if (!Number.isSafeInteger(seconds) || seconds <= 0 || seconds > maxTtlSeconds) {
      throw invalidRequest(
        `X-Cache-TTL must be a whole number of seconds between 1 and ${maxTtlSeconds}`,
        'x-cache-ttl',
        'invalid_cache_ttl',
      );
    }
    controls.ttlSeconds = seconds;
  }
  if (type !== undefined) {
    const value = type.trim().toLowerCase();
    if (value !== 'exact' && value !== 'semantic' && value !== 'both') {
      throw invalidRequest("X-Cache-Type must be 'exact', 'semantic' or 'both'", 'x-cache-type', 'invalid_cache_type');
    }
    controls.exact = value !== 'semantic';
    controls.semantic = value !== 'exact';
  }
  return controls;
}
