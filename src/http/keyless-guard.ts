/**
 * Keyless mode (no MODELGATE_MASTER_KEY, so the gateway listens on loopback only): a web page the user
 * opens must not be able to use it. Refused with 403, before the body is read:
 * - a Host that is not a loopback name or address (DNS rebinding: evil.example resolving to 127.0.0.1),
 *   unless MODELGATE_ALLOW_UNAUTHENTICATED exposed the gateway on purpose;
 * - a cross-site browser request: an Origin that is not loopback (`null` included), `Sec-Fetch-Site:
 *   cross-site`, and any request with an Origin whose body is text/plain, multipart/form-data or
 *   application/x-www-form-urlencoded (what a page can send without a CORS preflight).
 */
import { isIP } from 'node:net';
import { GatewayError } from '../core/errors.ts';
import { type GatewayRequest, headerValue } from './types.ts';

export interface KeylessGuardOptions {
  /** Accept any Host (MODELGATE_ALLOW_UNAUTHENTICATED=true with a non-loopback HOST). */
  anyHost: boolean;
}

/** localhost, *.localhost (RFC 6761 §6.3), 127.0.0.0/8, ::1 (with or without brackets). */
export function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  const bare = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1' || bare === '0:0:0:0:0:0:0:1';
}

/** The host name of a Host header value (`name`, `name:port`, `[v6]:port`). */
export function hostnameOf(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end < 0 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

function isLoopbackOrigin(origin: string): boolean {
  if (!origin.startsWith('http://') && !origin.startsWith('https://')) return false;
  try {
    return isLoopbackName(new URL(origin).hostname);
  } catch {
    return false;
  }
}

const simpleBodyTypes = ['text/plain', 'multipart/form-data', 'application/x-www-form-urlencoded'];

function refused(message: string, code: string): GatewayError {
  return new GatewayError(message, { status: 403, code, retryable: false });
}

/** Null when the request may go on, else the 403 to answer. */
export function keylessRefusal(headers: GatewayRequest['headers'], options: KeylessGuardOptions): GatewayError | null {
  if (!options.anyHost) {
    const host = headerValue(headers, 'host');
    if (host !== undefined && !isLoopbackName(hostnameOf(host.trim()))) {
      return refused(
        'Without MODELGATE_MASTER_KEY the gateway answers only requests addressed to a loopback host (localhost, 127.0.0.1, [::1])',
        'host_not_allowed',
      );
    }
  }
  const origin = headerValue(headers, 'origin');
  if (origin !== undefined && !isLoopbackOrigin(origin.trim())) {
    return refused('Without MODELGATE_MASTER_KEY the gateway refuses requests from web pages of other origins', 'cross_site_request');
  }
  if (headerValue(headers, 'sec-fetch-site') === 'cross-site') {
    return refused('Without MODELGATE_MASTER_KEY the gateway refuses cross-site browser requests', 'cross_site_request');
  }
  if (origin !== undefined) {
    const contentType = headerValue(headers, 'content-type')?.toLowerCase() ?? '';
    if (simpleBodyTypes.some((type) => contentType.startsWith(type))) {
      return refused('Without MODELGATE_MASTER_KEY, browser requests must send Content-Type: application/json', 'cross_site_request');
    }
  }
  return null;
}
