/**
 * HTTP out: one undici Agent (keep-alive pools per origin) shared by every provider.
 * Maps transport failures to gateway errors: timeouts -> 504, connection failures -> 502,
 * client abort -> 499. Upstream HTTP errors are mapped by `upstreamHttpError`.
 */
import { Agent, type Dispatcher, request } from 'undici';
import { GatewayError } from '../core/errors.ts';

export interface UpstreamClientOptions {
  /** Time allowed until the upstream sends response headers. */
  headersTimeoutMs: number;
  /** Time allowed between two body chunks. */
  bodyTimeoutMs: number;
  connectTimeoutMs: number;
}

export interface UpstreamRequest {
  provider: string;
  url: string;
  method?: 'GET' | 'POST' | 'DELETE';
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  body: Dispatcher.ResponseData['body'];
}

export interface UpstreamClient {
  send(upstreamRequest: UpstreamRequest): Promise<UpstreamResponse>;
  close(): Promise<void>;
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
  return {
    async send(upstreamRequest) {
      try {
        const response = await request(upstreamRequest.url, {
          method: upstreamRequest.method ?? 'POST',
          headers: upstreamRequest.headers,
          body: upstreamRequest.body ?? null,
          signal: upstreamRequest.signal ?? null,
          dispatcher: agent,
        });
        return { status: response.statusCode, headers: flattenHeaders(response.headers), body: response.body };
      } catch (error) {
        throw transportError(error, upstreamRequest.provider, upstreamRequest.signal);
      }
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
export function upstreamHttpError(
  provider: string,
  status: number,
  headers: Record<string, string>,
  text: string,
): GatewayError {
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

export async function readText(body: UpstreamResponse['body'], provider: string, signal?: AbortSignal): Promise<string> {
  try {
    return await body.text();
  } catch (error) {
    throw transportError(error, provider, signal);
  }
}

export async function readJson(
  body: UpstreamResponse['body'],
  provider: string,
  signal?: AbortSignal,
): Promise<Record<string, unknown>> {
  return (await readJsonText(body, provider, signal)).json;
}

/** Reads a JSON object and keeps its exact text, so an unchanged body can be relayed without serializing it again. */
export async function readJsonText(
  body: UpstreamResponse['body'],
  provider: string,
  signal?: AbortSignal,
): Promise<{ json: Record<string, unknown>; text: string }> {
  const text = await readText(body, provider, signal);
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return { json: parsed as Record<string, unknown>, text };
  } catch {
    // fall through
  }
  throw new GatewayError(`Upstream provider '${provider}' returned a body that is not a JSON object`, {
    status: 502,
    code: 'upstream_invalid_response',
    type: 'upstream_error',
    provider,
  });
}
