/**
 * What the cache keeps of one answer, and how an entry becomes a provider result again. A chat
 * stream is kept as its chunks (replayed as the same events, usage chunk included only when the
 * client asks for it); a JSON answer as its body. A JSON request is answered from a streamed entry by
 * assembling it, a streamed request from a JSON entry by re-chunking it (chat) . A native Responses
 * stream answers JSON requests with its `response.completed` response; a native Responses JSON entry
 * cannot be replayed as a stream and counts as a miss (the new stream then replaces it).
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

export interface CacheEntry {
  v: 1;
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
  json?: Json;
  chunks?: CachedChunk[];
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
    const body = entry.json ?? assembled(entry);
    if (!body) return null;
    const result: JsonResult = { kind: 'json', status: 200, body, headers: {}, usage };
    return result;
  }
  let chunks = entry.chunks;
  if (!chunks) {
    if (entry.operation === 'responses' || !entry.json) return null;
    chunks = rechunked(entry.json);
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
