/**
 * Reading upstream bodies, always bounded: a JSON or error body by UPSTREAM_MAX_RESPONSE_BYTES, one SSE event
 * or line by UPSTREAM_MAX_EVENT_BYTES. Over a limit the body is destroyed (which aborts the upstream request)
 * and the read fails with a 502. Every failure is a GatewayError (see `transportError`).
 */
import type { EventSourceMessage } from 'eventsource-parser';
import { GatewayError } from '../core/errors.ts';
import { parseSse } from '../core/sse.ts';
import type { Json } from './types.ts';
import { transportError, type UpstreamResponse, upstreamHttpError } from './upstream-client.ts';

type HttpErrorMapper = (provider: string, status: number, headers: Record<string, string>, text: string) => GatewayError;

function tooLarge(response: UpstreamResponse, what: string): GatewayError {
  const limit = what === 'event' ? 'UPSTREAM_MAX_EVENT_BYTES' : 'UPSTREAM_MAX_RESPONSE_BYTES';
  const bytes = what === 'event' ? response.limits.maxEventBytes : response.limits.maxResponseBytes;
  return new GatewayError(
    `Upstream provider '${response.provider}' sent ${what === 'event' ? 'a stream event' : what} larger than ${bytes} bytes (${limit})`,
    {
      status: 502,
      code: what === 'event' ? 'upstream_event_too_large' : 'upstream_response_too_large',
      type: 'upstream_error',
      retryable: false,
      provider: response.provider,
    },
  );
}

function invalidResponse(provider: string, what: string): GatewayError {
  return new GatewayError(`Upstream provider '${provider}' returned ${what}`, {
    status: 502,
    code: 'upstream_invalid_response',
    type: 'upstream_error',
    provider,
  });
}

/** Ends the use of a body: a complete one is drained (its connection stays reusable), any other destroyed (the request is aborted). */
export function releaseBody(response: UpstreamResponse, complete: boolean): void {
  const body = response.body;
  if (body.destroyed) return;
  if (complete) body.dump().catch(() => undefined);
  else body.destroy();
}

function collect(response: UpstreamResponse, what: string): Promise<Buffer> {
  const body = response.body;
  const limit = response.limits.maxResponseBytes;
  const declared = Number(response.headers['content-length']);
  return new Promise((resolve, reject) => {
    if (body.destroyed) {
      reject(body.errored ?? new Error('upstream body already closed'));
      return;
    }
    if (declared > limit) {
      const error = tooLarge(response, what);
      body.destroy(error);
      reject(error);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) body.destroy(tooLarge(response, what));
      else chunks.push(chunk);
    });
    body.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)));
    body.once('error', reject);
    body.once('close', () => reject(body.errored ?? new Error('upstream body closed before its end')));
  });
}

/** The whole body as bytes, at most UPSTREAM_MAX_RESPONSE_BYTES. */
export async function readBytes(response: UpstreamResponse, what = 'a body'): Promise<Buffer> {
  try {
    return await collect(response, what);
  } catch (error) {
    throw transportError(error, response.provider, response.signal);
  }
}

/** The whole body as text, at most UPSTREAM_MAX_RESPONSE_BYTES. */
export async function readText(response: UpstreamResponse, what = 'a body'): Promise<string> {
  try {
    return (await collect(response, what)).toString('utf8');
  } catch (error) {
    throw transportError(error, response.provider, response.signal);
  }
}

/** Reads a JSON object and keeps its exact text, so an unchanged body can be relayed without serializing it again. */
export async function readJsonText(response: UpstreamResponse): Promise<{ json: Json; text: string }> {
  const text = await readText(response);
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return { json: parsed as Json, text };
  } catch {
    // reported below
  }
  throw invalidResponse(response.provider, 'a body that is not a JSON object');
}

export async function readJson(response: UpstreamResponse): Promise<Json> {
  return (await readJsonText(response)).json;
}

/**
 * Lets a 2xx response through; for any other status reads the error body (bounded) and throws the error
 * `mapError` makes of it. A redirect is never followed nor relayed: it is a 502 (a base URL that moved).
 */
export async function rejectUnsuccessful(response: UpstreamResponse, mapError: HttpErrorMapper = upstreamHttpError): Promise<void> {
  const status = response.status;
  if (status >= 200 && status < 300) return;
  if (status < 400) {
    releaseBody(response, false);
    throw new GatewayError(
      `Upstream provider '${response.provider}' answered HTTP ${status} (a redirect, which the gateway does not follow): check the provider's base URL`,
      { status: 502, code: 'upstream_redirect', type: 'upstream_error', retryable: false, provider: response.provider },
    );
  }
  const text = await readText(response, `an error body (HTTP ${status})`);
  throw mapError(response.provider, status, response.headers, text);
}

/**
 * The SSE events of a stream body, each at most UPSTREAM_MAX_EVENT_BYTES (a line that never ends fails once
 * it passes the limit). Does not release the body: the caller does, in its `finally`, with `releaseBody`.
 */
export function readEvents(response: UpstreamResponse): AsyncGenerator<EventSourceMessage> {
  return parseSse(response.body.iterator({ destroyOnReturn: false }), {
    maxEventBytes: response.limits.maxEventBytes,
    tooLarge: () => tooLarge(response, 'event'),
    mapError: (error) => transportError(error, response.provider, response.signal),
  });
}

/** Parses one stream event's data as a JSON object; anything else (`{not json`, `null`, `[1]`, `42`) is a 502. */
export function parseEventObject(provider: string, data: string): Json {
  try {
    const parsed = JSON.parse(data) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Json;
  } catch {
    // reported below
  }
  throw invalidResponse(provider, 'a stream event that is not a JSON object');
}
