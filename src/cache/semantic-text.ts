/**
 * What the semantic layer compares: the text of the last user message, and a fingerprint of the
 * earlier turns (system prompt included) that becomes part of the scope, so that the same question in
 * another conversation is not taken for this one. Chat and Messages read `messages` (and Messages'
 * `system`); Responses read `input` (a string, or items with roles) and `instructions`. Calls whose last
 * turn is not a user text (tool results, images only) or whose conversation has more than
 * `maxMessages` non-system messages are not looked up semantically (null).
 */
import { createHash } from 'node:crypto';
import type { Endpoint } from '../core/outcome.ts';
import type { Json } from '../providers/types.ts';
import { canonicalJson } from './cache-key.ts';

export interface SemanticText {
  /** The last user message's text. */
  prompt: string;
  /** SHA-256 of everything before it (and the system prompt). */
  context: string;
}

function partsText(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return null;
  const texts: string[] = [];
  for (const part of content as Json[]) {
    if (!part || typeof part !== 'object') return null;
    if (typeof part.text === 'string' && (part.type === 'text' || part.type === 'input_text')) texts.push(part.text);
    else return null;
  }
  return texts.length > 0 ? texts.join('\n') : null;
}

function conversation(endpoint: Endpoint, body: Json): { messages: Json[]; system: unknown } | null {
  // The Gemini API hands the pipeline a canonical chat body (embedContent an embeddings one: no messages).
  if (endpoint === 'chat.completions' || endpoint === 'messages' || endpoint === 'gemini') {
    if (!Array.isArray(body.messages)) return null;
    return { messages: body.messages as Json[], system: endpoint === 'messages' ? body.system : undefined };
  }
  if (endpoint === 'responses') {
    if (typeof body.input === 'string') return { messages: [{ role: 'user', content: body.input }], system: body.instructions };
    if (!Array.isArray(body.input)) return null;
    return { messages: body.input as Json[], system: body.instructions };
  }
  return null;
}

export function semanticText(endpoint: Endpoint, body: Json, maxMessages: number): SemanticText | null {
  const found = conversation(endpoint, body);
  if (!found) return null;
  const turns = found.messages.filter(
    (message) => message && typeof message === 'object' && message.role !== 'system' && message.role !== 'developer',
  );
  if (turns.length === 0 || turns.length > maxMessages) return null;
  const last = found.messages.at(-1);
  if (last?.role !== 'user' || (last.type !== undefined && last.type !== 'message')) return null;
  const prompt = partsText(last.content);
  if (prompt === null || prompt.trim() === '') return null;
  const earlier = { system: found.system ?? null, messages: found.messages.slice(0, -1) };
  return { prompt, context: createHash('sha256').update(canonicalJson(earlier)).digest('hex') };
}

/** The request without its conversation: the parameters a semantic hit must share exactly. */
export function semanticParameters(endpoint: Endpoint, body: Json): Json {
  const rest: Json = { ...body };
  if (endpoint === 'responses') {
    delete rest.input;
    delete rest.instructions;
  } else {
    delete rest.messages;
    delete rest.system;
  }
  return rest;
}
