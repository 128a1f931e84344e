import type { Readable } from 'node:stream';
import type { GatewayError } from '../core/errors.ts';
/** Framework-neutral request and reply shapes: route handlers know nothing of the HTTP library. */
export interface GatewayRequest {
  requestId: string;
  method: string;
  /** Path without the query string. */
  path: string;
  /** Path and query string exactly as the client sent them (still percent-encoded); set by the HTTP adapter. */
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  params: Record<string, string>;
  query: Record<string, string>;
  /** Aborted when the client disconnects before the response is complete. */
  signal: AbortSignal;
  /** Identifies the gateway key that authenticated the request (never the key itself). */
  keyId: string | null;
  /** performance.now() when the request arrived. */
  startedAt: number;
  /** The unread request body, on routes declared with `streamBody` (the handler bounds its own reads). */
  bodyStream?: Readable;
}

export interface JsonReply {
  kind: 'json';
  status: number;
  headers?: Record<string, string>;
  body: unknown;
  /** Exact JSON text of `body` (an unchanged upstream body), sent instead of serializing `body` again. */
  rawBody?: string;
}

export interface TextReply {
  kind: 'text';
  status: number;
  contentType: string;
  headers?: Record<string, string>;
  body: string;
}

export interface SseReply {
  kind: 'sse';
  status: number;
  headers?: Record<string, string>;
  /** Already framed SSE text. Errors thrown while iterating are sent as a final error event. */
  frames: AsyncIterable<string>;
  /** Called once the stream is over, whether it completed, failed, or the client left. */
  onEnd?: (end: StreamEnd) => void;
  /** Renders an error thrown mid-stream as SSE frames (default: OpenAI's `data: {"error":...}`). */
  errorFrames?: (body: unknown) => string;
}

export interface StreamEnd {
  error: unknown;
  clientGone: boolean;
  /** ms from request start to the first frame written, or null if none was. */
  firstByteMs: number | null;
}

/** Bytes relayed as they come (passthrough, file downloads), written with backpressure. */
export interface StreamReply {
  kind: 'stream';
  status: number;
  headers: Record<string, string>;
  /** Null for a reply without a body (HEAD, 204, 304). */
  body: AsyncIterable<Uint8Array> | null;
  /** Called once the body is over, whether it completed, failed, or the client left. */
  onEnd?: (end: StreamEnd) => void;
}

export type GatewayReply = JsonReply | TextReply | SseReply | StreamReply;

export type RouteHandler = (request: GatewayRequest) => Promise<GatewayReply>;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

export interface Route {
  method: HttpMethod | HttpMethod[];
  /** Path with `:name` parameters. */
  path: string;
  /** Whether the master key is required (when one is set). */
  authenticated: boolean;
  handler: RouteHandler;
  /** The body is left unread and handed over as `request.bodyStream` (no JSON parsing, no BODY_SIZE_LIMIT). */
  streamBody?: boolean;
  /**
   * Renders the route's errors raised by the adapter (refused key, unreadable body) in the route's API
   * shape; by default the shape goes by the path (src/http/error-shape.ts).
   */
  errorBody?: (error: GatewayError, params: Record<string, string>) => unknown;
  /**
   * A query parameter that may carry the API key when no header does (Gemini's `?key=`). It is removed
   * from the request's `url` and `query` before the handler sees them, so it cannot reach a log or record.
   */
  keyQueryParameter?: string;
}

export function headerValue(headers: GatewayRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
