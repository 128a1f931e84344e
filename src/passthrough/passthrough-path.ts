/**
 * Maps the path after `/p/{provider}` onto the provider's base URL, so that no request can leave it.
 * The path is checked as the client sent it (still percent-encoded): dot segments, encoded slashes,
 * backslashes and dots, NUL, empty segments and malformed escapes are refused with 400, before any
 * URL parser gets a chance to normalize them into something else. The result is checked once more
 * after WHATWG URL parsing: same origin, path under the base path.
 */
import { invalidRequest } from '../core/errors.ts';

/** A version segment such as v1, v4, v1beta, v2alpha. */
const versionSegment = /^v\d+[a-z0-9]*$/i;
/** Escapes that would turn into path syntax once decoded: / \ . NUL %, and any malformed one. */
const dangerousEscape = /%(?:2f|5c|2e|00|25)|%(?![0-9a-f]{2})/i;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
const forbiddenCharacter = /[\\\u0000-\u001f\u007f]/;

function refuse(reason: string): never {
  throw invalidRequest(`Passthrough path refused: ${reason}`, null, 'invalid_passthrough_path');
}

/** Throws a 400 GatewayError unless `rest` (raw, '' or starting with '/') is a plain relative path. */
export function checkPassthroughPath(rest: string): void {
  if (rest === '') return;
  if (!rest.startsWith('/')) refuse('it must start with /');
  if (forbiddenCharacter.test(rest)) refuse('backslashes and control characters are not allowed');
  if (dangerousEscape.test(rest)) refuse('encoded slashes, backslashes, dots or percent signs are not allowed');
  const segments = rest.slice(1).split('/');
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index];
    if (segment === '.' || segment === '..') refuse('dot segments are not allowed');
    // A trailing slash is fine; an empty segment in the middle (`//`) is not.
    if (segment === '' && index < segments.length - 1) refuse('empty path segments are not allowed');
  }
}

export interface PassthroughUrlOptions {
  /** ALLOW_PASSTHROUGH_V1_ALIAS: drop a leading `/v1` (or the base URL's own version) that the base URL already has. */
  allowV1Alias: boolean;
}

/**
 * The upstream URL for `rest` (raw path after `/p/{provider}`) and `query` (raw, without `?`).
 * With the alias, a first segment `v1`, or the same version segment the base URL ends with, is
 * dropped when the base URL already ends with a version segment: `/p/openai/v1/chat/completions`
 * and `/p/openai/chat/completions` both reach `https://api.openai.com/v1/chat/completions`.
 * Base URLs without a version keep the path whole: `/p/anthropic/v1/messages` reaches
 * `https://api.anthropic.com/v1/messages`.
 */
export function passthroughUrl(baseUrl: string, rest: string, query: string, options: PassthroughUrlOptions): string {
  checkPassthroughPath(rest);
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  let path = rest;
  if (options.allowV1Alias) {
    const baseVersion = basePath.slice(basePath.lastIndexOf('/') + 1);
    const first = path.split('/')[1] ?? '';
    if (versionSegment.test(baseVersion) && (first.toLowerCase() === 'v1' || first.toLowerCase() === baseVersion.toLowerCase())) {
      path = path.slice(first.length + 1);
    }
  }
  const target = new URL(`${base.origin}${basePath}${path}${query ? `?${query}` : ''}`);
  if (target.origin !== base.origin || !(target.pathname === basePath || target.pathname.startsWith(`${basePath}/`) || basePath === '')) {
    refuse('it leaves the provider base URL');
  }
  return target.href;
}
