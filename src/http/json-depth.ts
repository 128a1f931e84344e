/**
 * Nesting depth of a JSON text, measured before it is parsed and without recursion: a body nested a
 * million deep is refused in one pass over its text instead of reaching code that recurses on it.
 * String contents are skipped with indexOf (a chat body is mostly strings), so the pass costs about
 * one step per structural character.
 */
import { GatewayError } from '../core/errors.ts';

/** The 400 of a body nested deeper than MAX_JSON_DEPTH (each route renders it in its caller's shape). */
export function jsonTooDeep(maxDepth: number): GatewayError {
  return new GatewayError(`Request body nests arrays and objects deeper than ${maxDepth} levels (MAX_JSON_DEPTH)`, {
    status: 400,
    code: 'json_too_deep',
    retryable: false,
  });
}

/** Whether `text` opens more than `maxDepth` arrays or objects inside each other. Invalid JSON is left to JSON.parse. */
export function jsonDepthExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  const length = text.length;
  for (let index = 0; index < length; index++) {
    const code = text.charCodeAt(index);
    if (code === 0x22) {
      // A string: jump to its closing quote (one not escaped by an odd number of backslashes).
      let end = index;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end < 0) return false;
        let backslashes = 0;
        while (text.charCodeAt(end - 1 - backslashes) === 0x5c) backslashes++;
        if (backslashes % 2 === 0) break;
      }
      index = end;
    } else if (code === 0x5b || code === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (code === 0x5d || code === 0x7d) {
      depth--;
    }
  }
  return false;
}
