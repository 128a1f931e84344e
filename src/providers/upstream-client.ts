/**
 * HTTP out: one undici Agent (keep-alive pools per origin) shared by every provider.
 * Maps transport failures to gateway errors: timeouts -> 504, connection failures -> 502,
 * client abort -> 499. Upstream HTTP errors are mapped by `upstreamHttpError`; bodies are read,
 * always within the configured limits, by the functions of upstream-body.ts.
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { GatewayError } from '../core/errors.ts';
import { Agent, undiciRequest } from './undici-request.ts';

export interface UpstreamLimits {
  /** Largest JSON or error body read (UPSTREAM_MAX_RESPONSE_BYTES). */
  maxResponseBytes: number;
  /** Largest SSE event or line (UPSTREAM_MAX_EVENT_BYTES). */
  maxEventBytes: number;
  /** Longest whole call, headers and body (UPSTREAM_TOTAL_TIMEOUT_MS). */
  totalTimeoutMs: number;
}

export interface UpstreamClientOptions extends UpstreamLimits {
  /** Time allowed until the upstream sends response headers. */
  headersTimeoutMs: number;
  /** Time allowed between two body chunks. */
  bodyTimeoutMs: number;
  connectTimeoutMs: number;
}

export interface UpstreamRequest {
  provider: string;
  url: string;
  method?: Dispatcher.HttpMethod;
  headers: Record<string, string>;
  /** A string or bytes, or a stream relayed as it is read (passthrough uploads). */
  body?: string | Uint8Array | Readable;
  signal?: AbortSignal;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  body: Dispatcher.ResponseData['body'];
  /** The provider instance, for error messages. */
  provider: string;
  /** The client's signal (aborted when the client goes away), to tell a client abort from an upstream failure. */
  signal: AbortSignal | undefined;
  limits: UpstreamLimits;
}

export interface UpstreamClient {
  send(upstreamRequest: UpstreamRequest): Promise<UpstreamResponse>;
  close(): Promise<void>;
}

/**
 * An undici body reports its errors to whoever reads it: a read or an iteration in progress rejects, and
 * one started later rejects with the stored error. A body nobody is reading at that moment (released after
 * an upstream error event, left unread because the client went away, or cut by the total deadline) would
 * emit its 'error' event to no listener, which throws in the process; this listener takes those.
 */
function keepBodyErrorWithReaders(): void {}

function totalTimeoutError(provider: string, totalTimeoutMs: number): GatewayError {
  return new GatewayError(`Upstream provider '${provider}' did not complete within ${totalTimeoutMs} ms (UPSTREAM_TOTAL_TIMEOUT_MS)`, {
    status: 504,
    code: 'upstream_timeout',
    type: 'timeout_error',
    retryable: true,
    provider,
  });
}

export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  const agent = new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
    connect: { timeout: options.connectTimeoutMs },
    pipelining: 1,
  });
  const limits: UpstreamLimits = {
    maxResponseBytes: options.maxResponseBytes,
    maxEventBytes: options.maxEventBytes,
    totalTimeoutMs: options.totalTimeoutMs,
  };
  return {
    async send(upstreamRequest) {
      const { provider, signal } = upstreamRequest;
      if (signal?.aborted) throw transportError(signal.reason, provider, signal);
      // One signal for the whole call: the client leaving or the total deadline passing aborts the
      // request, or the body being read, at once (undici destroys the body with the abort reason).
      const controller = new AbortController();
      const onClientAbort = () => controller.abort(signal?.reason);
      signal?.addEventListener('abort', onClientAbort, { once: true });
      const timer = setTimeout(() => controller.abort(totalTimeoutError(provider, limits.totalTimeoutMs)), limits.totalTimeoutMs);
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onClientAbort);
      };
      let response: Dispatcher.ResponseData;
      try {
        response = await undiciRequest(agent, upstreamRequest.url, {
          method: upstreamRequest.method ?? 'POST',
          headers: upstreamRequest.headers,
          body: upstreamRequest.body ?? null,
          signal: controller.signal,
        });
      } catch (error) {
        settle();
        throw transportError(error, provider, signal);
      }
      const body = response.body;
      body.on('error', keepBodyErrorWithReaders);
      // The body closes once it was read to the end, released or destroyed: the call is over.
      body.once('close', settle);
      return { status: response.statusCode, headers: flattenHeaders(response.headers), body, provider, signal, limits };
    },
    async close() {
      await agent.close();
    },
  };
}

export function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function errorCode(error: unknown): string | undefined {
  if (error && typeof error === 'object') {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const cause = (error as { cause?: unknown }).cause;
    if (cause && typeof cause === 'object' && typeof (cause as { code?: unknown }).code === 'string') {
      return (cause as { code: string }).code;
    }
  }
  return undefined;
}

/** Maps an error thrown while talking to the upstream (request or body read). */
export function transportError(error: unknown, provider: string, signal?: AbortSignal): GatewayError {
  if (error instanceof GatewayError) return error;
  if (signal?.aborted) {
    return new GatewayError('Client closed the request', {
      status: 499,
      code: 'client_closed_request',
      retryable: false,
      cause: error,
      provider,
    });
  }
  const code = errorCode(error);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new GatewayError(`Upstream provider '${provider}' timed out`, {
      status: 504,
      code: 'upstream_timeout',
      type: 'timeout_error',
      retryable: true,
      cause: error,
      provider,
    });
  }
  return new GatewayError(`Could not reach upstream provider '${provider}'${code ? ` (${code})` : ''}`, {
    status: 502,
    code: 'upstream_unreachable',
    type: 'upstream_error',
    retryable: true,
    cause: error,
    provider,
  });
}

const forwardedErrorHeaders = ['retry-after', 'retry-after-ms'];

/** Maps an upstream HTTP error response to a GatewayError that keeps the upstream's message. */
export function upstreamHttpError(provider: string, status: number, headers: Record<string, string>, text: string): GatewayError {
  let message = '';
  let upstreamCode: string | undefined;
  let upstreamType: string | undefined;
  let param: string | null = null;
  try {
    const parsed = JSON.parse(text) as unknown;
    const body = (Array.isArray(parsed) ? parsed[0] : parsed) as Record<string, unknown> | undefined;
    const error = body?.error;
    if (typeof error === 'string') message = error;
    else if (error && typeof error === 'object') {
      const details = error as Record<string, unknown>;
      if (typeof details.message === 'string') message = details.message;
      if (typeof details.code === 'string') upstreamCode = details.code;
      else if (typeof details.status === 'string') upstreamCode = details.status.toLowerCase();
      if (typeof details.type === 'string') upstreamType = details.type;
      if (typeof details.param === 'string') param = details.param;
    }
    if (!message && typeof body?.message === 'string') message = body.message;
    if (!message && typeof body?.detail === 'string') message = body.detail;
  } catch {
    message = text.trim().slice(0, 500);
  }
  if (!message) message = `HTTP ${status}`;
  let mappedStatus = status;
  if (status >= 500) mappedStatus = status === 503 || status === 529 ? 503 : status === 504 ? 504 : 502;
  else if (status < 400) mappedStatus = 502;
  const forwarded: Record<string, string> = {};
  for (const name of forwardedErrorHeaders) {
    const value = headers[name];
    if (value !== undefined) forwarded[name] = value;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('x-ratelimit-')) forwarded[name] = value;
  }
  return new GatewayError(`${provider}: ${message}`, {
    status: mappedStatus,
    code: upstreamCode ?? (status === 429 ? 'rate_limit_exceeded' : `upstream_${status}`),
    type: upstreamType ?? (status === 529 ? 'overloaded_error' : undefined),
    param,
    retryable: status === 429 || status >= 500,
    headers: forwarded,
    provider,
  });
}
