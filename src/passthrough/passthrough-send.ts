/**
 * Sends one passthrough request. Only idempotent methods (RFC 9110 section 9.2.2: GET, HEAD,
 * OPTIONS, PUT, DELETE) whose body the gateway holds are tried again, on a connection failure or a
 * 502/503/504 answer, at most `retries` more times; POST and PATCH are sent once, and so is a body
 * relayed as it is read (it cannot be replayed).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { GatewayError } from '../core/errors.ts';
import type { UpstreamClient, UpstreamRequest, UpstreamResponse } from '../providers/upstream-client.ts';

const idempotentMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
const retriedStatuses = new Set([502, 503, 504]);

export interface SendOptions {
  retries: number;
  /** First wait between tries; doubled each time. */
  backoffMs: number;
  /** False when the body is a stream that was already consumed by the first try. */
  replayable: boolean;
}

export function isIdempotent(method: string): boolean {
  return idempotentMethods.has(method.toUpperCase());
}

export async function sendPassthrough(client: UpstreamClient, upstreamRequest: UpstreamRequest, options: SendOptions): Promise<UpstreamResponse> {
  const method = upstreamRequest.method ?? 'GET';
  const maxTries = isIdempotent(method) && options.replayable ? options.retries + 1 : 1;
  for (let attempt = 1; ; attempt++) {
    let response: UpstreamResponse;
    try {
      response = await client.send(upstreamRequest);
    } catch (error) {
      const retryable = error instanceof GatewayError && error.code === 'upstream_unreachable';
      if (!retryable || attempt >= maxTries || upstreamRequest.signal?.aborted) throw error;
      await sleep(options.backoffMs * 2 ** (attempt - 1), undefined, { signal: upstreamRequest.signal }).catch(() => {});
      continue;
    }
    if (!retriedStatuses.has(response.status) || attempt >= maxTries || upstreamRequest.signal?.aborted) return response;
    await response.body.dump().catch(() => {});
    await sleep(options.backoffMs * 2 ** (attempt - 1), undefined, { signal: upstreamRequest.signal }).catch(() => {});
  }
}
