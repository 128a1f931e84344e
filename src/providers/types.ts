/**
 * The contract between the gateway core and a provider adapter. The canonical wire format is the
 * OpenAI one: adapters take OpenAI-shaped request bodies and return OpenAI-shaped bodies and
 * chat.completion.chunk payloads, translating natively where the upstream speaks something else.
 */
import type { Usage } from '../core/usage.ts';

export type Json = Record<string, unknown>;

export interface CallContext {
  requestId: string;
  /** Aborted when the client goes away; adapters pass it to the upstream request. */
  signal: AbortSignal;
  /** Names of request parameters the adapter could not map; reported in X-Modelgate-Dropped-Params. */
  droppedParams: string[];
  /** The client's request headers, for adapters that forward feature-selecting headers (anthropic-beta). */
  clientHeaders?: Record<string, string | string[] | undefined>;
}

export interface JsonResult {
  kind: 'json';
  status: number;
  body: Json;
  /** The upstream's exact JSON text of `body`, when the adapter did not change it: relayed as is. */
  rawBody?: string;
  /** Upstream headers worth forwarding (rate-limit headers, request ids). */
  headers: Record<string, string>;
  usage: Usage | null;
}

export interface StreamChunk {
  /** JSON text of one chat.completion.chunk (or other event payload), without SSE framing. */
  data: string;
  /** SSE event name, for APIs whose streams name their events (Responses, Messages). */
  event?: string;
  /** True for the trailing usage-only chunk the gateway asked for on the client's behalf. */
  usageOnly?: boolean;
  /**
   * `data` already parsed, when the provider had the object at hand (it parsed the upstream event or built
   * the chunk itself), so that consumers do not parse it again. Read-only: `data` stays the text relayed.
   */
  json?: Json;
  /** The upstream's raw bytes, on an opaque relay's result (passthrough); `data` is then empty. */
  bytes?: Uint8Array;
}

export interface StreamResult {
  kind: 'stream';
  status: number;
  headers: Record<string, string>;
  chunks: AsyncIterable<StreamChunk>;
  /** Usage as seen so far; final once `chunks` is exhausted. */
  usage(): Usage | null;
  /**
   * Aborts the upstream request at once, even while `chunks` waits for the upstream (a waiting generator
   * cannot be closed). Used when a stream is given up before it started (src/routing/stream-start.ts).
   */
  abort?(): void;
}

export type ProviderResult = JsonResult | StreamResult;

export interface Provider {
  /** Instance name: the prefix in `provider/model` and the `owned_by` of its models. */
  readonly name: string;
  /** Provider type (openai, groq, azure, anthropic, gemini...). */
  readonly type: string;
  listModels(signal?: AbortSignal): Promise<string[]>;
  chatCompletions(body: Json, context: CallContext): Promise<ProviderResult>;
  embeddings(body: Json, context: CallContext): Promise<JsonResult>;
  /** Native OpenAI Responses API, where the upstream speaks it (OpenAI, xAI). */
  responses?(body: Json, context: CallContext): Promise<ProviderResult>;
  /** Releases pooled connections. */
  close?(): Promise<void>;
}
