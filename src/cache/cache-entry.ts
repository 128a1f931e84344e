/**
 * What the cache keeps of one answer, and how an entry becomes a provider result again. A chat
 * stream is kept as its chunks (replayed as the same events, usage chunk included only when the
 * client asks for it); a JSON answer as its body. A JSON request is answered from a streamed entry by
 * assembling it, a streamed request from a JSON entry by re-chunking it (chat) . A native Responses
 * stream answers JSON requests with its `response.completed` response; a native Responses JSON entry
 * cannot be replayed as a stream and counts as a miss (the new stream then replaces it).
 *
 * A JSON answer is kept as its text (`jsonText`, the upstream's own bytes when the provider relayed
 * them): storing it serializes no answer object, and a hit sends that text as it is and parses it only
 * when something reads the body (a translating route, the audit copy).
 */
import { createChatStreamAssembler } from '../core/chat-stream-assembler.ts';
import type { Endpoint, Operation } from '../core/outcome.ts';
import type { Usage } from '../core/usage.ts';
import type { Json, JsonResult, ProviderResult, StreamChunk, StreamResult } from '../providers/types.ts';

export interface CachedChunk {
  /** Payload text. */
  d: string;
  /** SSE event name (Responses). */
  e?: string;
  /** Set on the usage-only chunk of a chat stream. */
  u?: 1;
}

/** Bumped with the entry's layout; an entry of another layout is not served (cacheSchemaVersion keys it away too). */
export const cacheEntryVersion = 2;

export interface CacheEntry {
  v: typeof cacheEntryVersion;
  endpoint: Endpoint;
  /** Tenant the entry belongs to (key id or `*`), and the model asked for: for purges and the admin API. */
  tenant: string;
  requestedModel: string;
  provider: string;
  model: string;
  operation: Operation;
  createdAt: number;
  expiresAt: number;
  usage: Usage | null;
  /** The JSON answer's text. */
  jsonText?: string;
  chunks?: CachedChunk[];
}

/** What an entry counts for beside its answer's bytes (its metadata, the store's bookkeeping). */
export const entryOverheadBytes = 512;

/**
 * The bytes an entry counts for against RESPONSE_CACHE_MAX_ENTRY_BYTES and RESPONSE_CACHE_MAX_BYTES: the
 * answer's UTF-8 bytes (the JSON text, or each chunk's payload and event name and 16 for its framing) and
 * `entryOverheadBytes` for the rest. Counted from the answer, not from `encodeEntry`'s text, so that storing
 * an entry serializes nothing: the embedded store encodes it only when it writes it to SQLite.
 */
export function entrySize(entry: CacheEntry): number {
  let bytes = entryOverheadBytes;
  if (entry.jsonText !== undefined) bytes += Buffer.byteLength(entry.jsonText);
  for (const chunk of entry.chunks ?? []) bytes += Buffer.byteLength(chunk.d) + (chunk.e?.length ?? 0) + 16;
  return bytes;
}

/**
 * The entry's stored text: its JSON without `jsonText`, then, for a JSON answer, a newline and the
 * answer's text as it is (JSON.stringify never writes a raw newline, so the first one ends the entry
 * part). The answer is neither escaped when stored nor unescaped when read.
 */
export function encodeEntry(entry: CacheEntry): string {
  const { jsonText, ...rest } = entry;
  const head = JSON.stringify(rest);
  return jsonText === undefined ? head : `${head}\n${jsonText}`;
}

/** An entry read back from its stored text, or null when the text is not an entry of this layout. */
export function decodeEntry(text: string): CacheEntry | null {
  const newline = text.indexOf('\n');
  let parsed: unknown;
  try {
    parsed = JSON.parse(newline === -1 ? text : text.slice(0, newline));
  } catch {
    return null;
  }
  if (!parsed || typeof parsed !== 'object' || (parsed as CacheEntry).v !== cacheEntryVersion) return null;
  const entry = parsed as CacheEntry;
  if (newline !== -1) entry.jsonText = text.slice(newline + 1);
  return entry.jsonText !== undefined || Array.isArray(entry.chunks) ? entry : null;
}

/**
 * A JSON result whose body is `text`, sent as it is (`rawBody`) and parsed only on first read of `body`.
 * Assigning `body` replaces it and drops the text (a stage that rewrites the answer must not send the old bytes).
 */
function jsonTextResult(text: string, usage: Usage | null): JsonResult {
  let parsed: Json | undefined;
  const result: JsonResult = { kind: 'json', status: 200, body: {}, headers: {}, usage, rawBody: text };
  Object.defineProperty(result, 'body', {
    enumerable: true,
    get(): Json {
      parsed ??= JSON.parse(text) as Json;
      return parsed;
    },
    set(value: Json) {
      parsed = value;
      delete result.rawBody;
    },
  });
  return result;
}

/** Whether a chat chunk carries only usage (`choices: []`), the chunk OpenAI sends last on request. */
function isUsageChunk(parsed: Json): boolean {
  return Array.isArray(parsed.choices) && parsed.choices.length === 0 && parsed.usage !== undefined && parsed.usage !== null;
}

/**
 * Collects a stream's chunks for storing. `complete()` says whether the stream ended properly: every
 * chunk was JSON and (chat) some choice finished or (Responses) the last event is `response.completed`.
 */
export function createChunkRecorder(operation: Operation, maxBytes: number) {
  const chunks: CachedChunk[] = [];
  let bytes = 0;
  let valid = true;
  let finished = false;
  return {
    add(chunk: StreamChunk): void {
      if (!valid) return;
      bytes += chunk.data.length + (chunk.event?.length ?? 0) + 16;
      if (bytes > maxBytes) {
        valid = false;
        chunks.length = 0;
        return;
      }
      let parsed: Json;
      try {
        parsed = chunk.json ?? (JSON.parse(chunk.data) as Json);
      } catch {
        valid = false;
        return;
      }
      const kept: CachedChunk = { d: chunk.data };
      if (chunk.event !== undefined) kept.e = chunk.event;
      if (operation === 'responses') {
        finished = chunk.event === 'response.completed' || parsed.type === 'response.completed';
      } else {
        if (parsed.error !== undefined) valid = false;
        if (isUsageChunk(parsed)) kept.u = 1;
        for (const choice of (Array.isArray(parsed.choices) ? parsed.choices : []) as Json[]) {
          if (typeof choice?.finish_reason === 'string') finished = true;
        }
      }
      chunks.push(kept);
    },
    complete(): CachedChunk[] | null {
      return valid && finished ? chunks : null;
    },
  };
}

/** The JSON body a streamed entry stands for, or null when it cannot be rebuilt. */
function assembled(entry: CacheEntry): Json | null {
  const chunks = entry.chunks ?? [];
  if (entry.operation === 'responses') {
    for (let index = chunks.length - 1; index >= 0; index--) {
      const chunk = chunks[index] as CachedChunk;
      if (chunk.e !== 'response.completed') continue;
      const response = (JSON.parse(chunk.d) as Json).response;
      return response && typeof response === 'object' ? (response as Json) : null;
    }
    return null;
  }
  const assembler = createChatStreamAssembler();
  for (const chunk of chunks) assembler.add(JSON.parse(chunk.d) as Json);
  return assembler.result();
}

/** Chat chunks for a chat completion: one chunk per choice with its whole message, then the usage chunk. */
function rechunked(body: Json): CachedChunk[] {
  const shell = { id: body.id, object: 'chat.completion.chunk', created: body.created, model: body.model };
  const fingerprint = body.system_fingerprint === undefined ? {} : { system_fingerprint: body.system_fingerprint };
  const chunks: CachedChunk[] = [];
  for (const choice of (Array.isArray(body.choices) ? body.choices : []) as Json[]) {
    const message = (choice.message ?? {}) as Json;
    const delta: Json = { ...message };
    if (Array.isArray(message.tool_calls)) {
      delta.tool_calls = (message.tool_calls as Json[]).map((call, index) => ({ index, ...call }));
    }
    const data = {
      ...shell,
      ...fingerprint,
      choices: [{ index: choice.index ?? 0, delta, logprobs: choice.logprobs ?? null, finish_reason: choice.finish_reason ?? 'stop' }],
    };
    chunks.push({ d: JSON.stringify(data) });
  }
  if (body.usage) chunks.push({ d: JSON.stringify({ ...shell, ...fingerprint, choices: [], usage: body.usage }), u: 1 });
  return chunks;
}

/**
 * The entry as the result the call asks for (stream or JSON), or null when this entry cannot serve it.
 * `includeUsage`: the client asked for the usage chunk (stream_options.include_usage).
 */
export function entryResult(entry: CacheEntry, stream: boolean, includeUsage: boolean): ProviderResult | null {
  const usage = entry.usage;
  if (!stream) {
    if (entry.jsonText !== undefined) return jsonTextResult(entry.jsonText, usage);
    const body = assembled(entry);
    if (!body) return null;
    const result: JsonResult = { kind: 'json', status: 200, body, headers: {}, usage };
    return result;
  }
  let chunks = entry.chunks;
  if (!chunks) {
    if (entry.operation === 'responses' || entry.jsonText === undefined) return null;
    chunks = rechunked(JSON.parse(entry.jsonText) as Json);
  }
  const replay = chunks;
  // As from a provider, usage is known once the stream has been read (translators read it at the start too).
  let ended = false;
  async function* replayed(): AsyncGenerator<StreamChunk> {
    for (const chunk of replay) {
      const out: StreamChunk = { data: chunk.d };
      if (chunk.e !== undefined) out.event = chunk.e;
      if (chunk.u && !includeUsage) out.usageOnly = true;
      yield out;
    }
    ended = true;
  }
  const result: StreamResult = { kind: 'stream', status: 200, headers: {}, chunks: replayed(), usage: () => (ended ? usage : null) };
  return result;
}
