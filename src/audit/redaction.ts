/**
 * Keeps secrets out of stored audit records by their place: credential headers, cookies, `key=`-style
 * query parameters, credential-named JSON fields. Secrets by their value (configured keys, key shapes)
 * are the secret scrubber's part (src/security/secret-scrubber.ts), applied after this.
 */
import { redacted } from '../security/secret-scrubber.ts';

const secretHeaders = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'x-goog-api-key',
  'api-key',
  'cookie',
  'set-cookie',
  'x-auth-token',
  'x-amz-security-token',
  'openai-organization',
  'x-modelgate-key',
]);

const secretQueryParameters = new Set([
  'key',
  'api_key',
  'api-key',
  'apikey',
  'access_token',
  'token',
  'sig',
  'signature',
  'x-goog-api-key',
]);

const secretFields = new Set([
  'api_key',
  'apikey',
  'api-key',
  'authorization',
  'x-api-key',
  'x-goog-api-key',
  'password',
  'secret',
  'client_secret',
  'access_token',
  'refresh_token',
  'cookie',
]);

export function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return secretHeaders.has(lower) || /(^|-)(secret|password|token|api-?key)$/.test(lower);
}

export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) result[name] = isSecretHeader(name) ? redacted : value;
  return result;
}

/** Redacts secret query parameters of a URL or path (`/v1beta/models/x:generateContent?key=...`). */
export function redactUrl(url: string): string {
  const question = url.indexOf('?');
  if (question === -1) return url;
  const query = url
    .slice(question + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = decodeSafely(equals === -1 ? pair : pair.slice(0, equals)).toLowerCase();
      return equals !== -1 && secretQueryParameters.has(name) ? `${pair.slice(0, equals)}=${redacted}` : pair;
    })
    .join('&');
  return `${url.slice(0, question + 1)}${query}`;
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Deep copy of a JSON value with credential-named fields redacted. */
export function redactJson(value: unknown, depth = 0): unknown {
  if (depth > 64) return value;
  if (Array.isArray(value)) return value.map((item) => redactJson(item, depth + 1));
  if (value && typeof value === 'object') {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      result[key] = secretFields.has(key.toLowerCase()) && item !== null && item !== '' ? redacted : redactJson(item, depth + 1);
    }
    return result;
  }
  return value;
}

/** Cuts UTF-8 text to at most `maxBytes` bytes without splitting a character. */
export function capText(text: string, maxBytes: number): { text: string; truncated: boolean } {
  if (Buffer.byteLength(text) <= maxBytes) return { text, truncated: false };
  const buffer = Buffer.from(text).subarray(0, maxBytes);
  let cut = buffer.toString('utf8');
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return { text: cut, truncated: true };
}
