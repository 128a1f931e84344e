/**
 * The exact-cache key: a SHA-256 over the endpoint, the model the call resolves to (provider and
 * upstream model, or the virtual model's name), the canonical request, the tenant and the versions
 * of everything that shapes an answer besides the request. The canonical request keeps every
 * parameter (unknown ones too: a field the gateway does not know may still shape the output) with
 * object keys sorted, drops only what never changes the answer's content (`model`, which the
 * resolved target replaces; `stream` and `stream_options`, since entries are replayed in either
 * form) and parameters equal to their documented default (so `n: 1` and no `n` share an entry).
 */
import { hash } from 'node:crypto';
import type { Endpoint } from '../core/outcome.ts';
import type { Json } from '../providers/types.ts';

/** Bumped when the entry format or the canonical form changes: old entries then simply never hit. */
export const cacheSchemaVersion = 2;

/**
 * Documented defaults, per endpoint: a parameter sent with its default value is the same request as
 * one without it. Chat: https://platform.openai.com/docs/api-reference/chat/create; Responses:
 * https://platform.openai.com/docs/api-reference/responses/create; Messages:
 * https://docs.anthropic.com/en/api/messages; embeddings:
 * https://platform.openai.com/docs/api-reference/embeddings/create.
 */
const defaults: Record<Endpoint, Record<string, unknown>> = {
  'chat.completions': {
    n: 1,
    temperature: 1,
    top_p: 1,
    presence_penalty: 0,
    frequency_penalty: 0,
    logprobs: false,
    parallel_tool_calls: true,
  },
  responses: { temperature: 1, top_p: 1, parallel_tool_calls: true, truncation: 'disabled', store: true, background: false },
  messages: {},
  embeddings: { encoding_format: 'float' },
  passthrough: {},
  gemini: {},
  guardrail: {},
};

const ignored = new Set(['model', 'stream', 'stream_options']);

/**
 * The value with object keys sorted at every depth: objects whose keys are already in order are kept as
 * they are (no copy), only unsorted ones are rebuilt. Integer-like keys keep JavaScript's own order
 * (ascending numbers first), which is as deterministic as a string sort; that is all a key needs.
 */
function sortedKeys(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let out = value;
    for (let index = 0; index < value.length; index++) {
      const item = value[index];
      const sorted = sortedKeys(item);
      if (sorted === item) continue;
      if (out === value) out = value.slice();
      out[index] = sorted;
    }
    return out;
  }
  const object = value as Json;
  const keys = Object.keys(object);
  let inOrder = true;
  for (let index = 1; index < keys.length; index++) {
    if ((keys[index - 1] as string) > (keys[index] as string)) {
      inOrder = false;
      break;
    }
  }
  if (!inOrder) {
    keys.sort();
    const out: Json = {};
    for (const key of keys) out[key] = sortedKeys(object[key]);
    return out;
  }
  let out = object;
  for (const key of keys) {
    const member = object[key];
    const sorted = sortedKeys(member);
    if (sorted === member) continue;
    if (out === object) out = { ...object };
    out[key] = sorted;
  }
  return out;
}

/**
 * JSON text with object keys sorted at every depth; `undefined` members are left out as JSON does.
 * One native JSON.stringify over a key-sorted view of the value (about 4x faster than building the
 * text member by member).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortedKeys(value)) ?? 'null';
}

/** The request body without the fields that do not shape the answer and without defaults (top level). */
export function canonicalRequest(endpoint: Endpoint, body: Json): Json {
  const endpointDefaults = defaults[endpoint];
  const canonical: Json = {};
  for (const [name, value] of Object.entries(body)) {
    if (ignored.has(name) || value === null || value === undefined) continue;
    if (Object.hasOwn(endpointDefaults, name) && endpointDefaults[name] === value) continue;
    canonical[name] = value;
  }
  return canonical;
}

export interface CacheKeyParts {
  endpoint: Endpoint;
  /** `provider/upstream-model`, or `virtual:<name>` for a virtual model (its pick is part of the answer). */
  target: string;
  /** The authenticated key id, or `*` in the shared scope. */
  tenant: string;
  body: Json;
  /** Version of the guardrail/workflow configuration the answer passed through (null while none exists). */
  policyVersion?: string | null;
}

export function exactCacheKey(parts: CacheKeyParts): string {
  return hash('sha256', exactCacheKeyText(parts), 'hex');
}

/**
 * The text the key hashes: `canonicalJson` of `{ v, endpoint, target, tenant, policy, request }`, written out
 * in that object's sorted key order (endpoint, policy, request, target, tenant, v) instead of being built and
 * sorted at every call, and the canonical request sorted as it is built.
 */
export function exactCacheKeyText(parts: CacheKeyParts): string {
  return (
    `{"endpoint":${JSON.stringify(parts.endpoint)},"policy":${JSON.stringify(parts.policyVersion ?? null)},` +
    `"request":${canonicalRequestJson(parts.endpoint, parts.body)},"target":${JSON.stringify(parts.target)},` +
    `"tenant":${JSON.stringify(parts.tenant)},"v":${cacheSchemaVersion}}`
  );
}

/** `canonicalJson(canonicalRequest(endpoint, body))`, with the kept names sorted once rather than the copy sorted again. */
function canonicalRequestJson(endpoint: Endpoint, body: Json): string {
  const endpointDefaults = defaults[endpoint];
  const names: string[] = [];
  for (const name of Object.keys(body)) {
    const value = body[name];
    if (ignored.has(name) || value === null || value === undefined) continue;
    if (Object.hasOwn(endpointDefaults, name) && endpointDefaults[name] === value) continue;
    names.push(name);
  }
  names.sort();
  const canonical: Json = {};
  for (const name of names) canonical[name] = sortedKeys(body[name]);
  return JSON.stringify(canonical);
}
