/**
 * Which headers cross the passthrough, each way. Hop-by-hop headers (RFC 9110 section 7.6.1, plus
 * any named in `Connection`), forwarding headers (RFC 7239 `Forwarded`, the X-Forwarded-* family,
 * Via), the client's credentials (every header a gateway key may arrive in, and cookies) and the
 * gateway's own headers never reach the provider; the provider's credentials are added by the target.
 */
import type { GatewayRequest } from '../http/types.ts';

const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

const requestOnly = new Set([
  'host',
  // Forwarding: the gateway is the client of the provider; the caller's address stays here.
  'forwarded',
  'via',
  'x-real-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'x-client-ip',
  // Credentials of the caller (the gateway key) and anything that identifies its session.
  'authorization',
  'x-api-key',
  'x-goog-api-key',
  'api-key',
  'cookie',
  // The length is set again for a body the gateway read; compression is chosen by the gateway.
  'content-length',
  'accept-encoding',
]);

const responseOnly = new Set(['set-cookie', 'alt-svc', 'x-request-id']);

function connectionListed(value: string | string[] | undefined): Set<string> {
  const listed = new Set<string>();
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  for (const name of text.split(',')) if (name.trim()) listed.add(name.trim().toLowerCase());
  return listed;
}

/** The client's headers that may go to the provider. `keepLength` keeps Content-Length for a body relayed unread. */
export function upstreamRequestHeaders(headers: GatewayRequest['headers'], keepLength: boolean): Record<string, string> {
  const listed = connectionListed(headers.connection);
  const result: Record<string, string> = {};
  for (const [rawName, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const name = rawName.toLowerCase();
    if (hopByHop.has(name) || listed.has(name) || name.startsWith('x-forwarded-') || name.startsWith('x-modelgate-')) continue;
    if (requestOnly.has(name) && !(keepLength && name === 'content-length')) continue;
    result[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  // The gateway reads usage from the answer: ask for it uncompressed.
  result['accept-encoding'] = 'identity';
  return result;
}

/**
 * The provider's headers that go back to the client (hop-by-hop, cookies and alt-svc stay with the
 * gateway). Content-Length is kept: the body is relayed byte for byte.
 */
export function clientResponseHeaders(headers: Record<string, string>): Record<string, string> {
  const listed = connectionListed(headers.connection);
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (hopByHop.has(name) || listed.has(name)) continue;
    if (responseOnly.has(name)) continue;
    result[name] = value;
  }
  const upstreamRequestId = headers['x-request-id'];
  if (upstreamRequestId !== undefined) result['x-upstream-request-id'] = upstreamRequestId;
  return result;
}
