/**
 * Provider state attached to a chat tool call (`extra_content`, e.g. Gemini's
 * `extra_content.google.thought_signature`) has no slot in Anthropic `tool_use` blocks or Responses
 * `function_call` items. It travels inside the call id instead — `<id>__xc_<base64url(JSON)>`,
 * which stays within Anthropic's id alphabet [A-Za-z0-9_-] — and is restored when the client sends
 * the id back with the call or its result.
 */
import type { Json } from '../providers/types.ts';

const marker = '__xc_';

export function encodeToolCallId(id: string, extraContent: unknown): string {
  if (extraContent === undefined || extraContent === null || typeof extraContent !== 'object') return id;
  return `${id}${marker}${Buffer.from(JSON.stringify(extraContent), 'utf8').toString('base64url')}`;
}

export function decodeToolCallId(id: string): { id: string; extraContent?: Json } {
  const position = id.indexOf(marker);
  if (position === -1) return { id };
  try {
    const parsed = JSON.parse(Buffer.from(id.slice(position + marker.length), 'base64url').toString('utf8')) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      return { id: id.slice(0, position), extraContent: parsed as Json };
  } catch {
    // not ours: keep the id as the client sent it
  }
  return { id };
}

const thinkingPrefix = 'mgthink_';

/**
 * Signed thinking blocks (the Anthropic provider's `thinking_blocks`) travel in a Responses
 * reasoning item's `encrypted_content`, so that a later turn can hand them back unchanged.
 */
export function encodeThinkingBlocks(blocks: Json[]): string {
  return `${thinkingPrefix}${Buffer.from(JSON.stringify(blocks), 'utf8').toString('base64url')}`;
}

export function decodeThinkingBlocks(encrypted: unknown): Json[] | null {
  if (typeof encrypted !== 'string' || !encrypted.startsWith(thinkingPrefix)) return null;
  try {
    const parsed = JSON.parse(Buffer.from(encrypted.slice(thinkingPrefix.length), 'base64url').toString('utf8')) as unknown;
    return Array.isArray(parsed) ? (parsed as Json[]) : null;
  } catch {
    return null;
  }
}
