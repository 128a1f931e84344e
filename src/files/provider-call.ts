/** One call to a provider's Files or Batches API, with its credentials; JSON answers read within the upstream limits. */
import type { Readable } from 'node:stream';
import type { UpstreamClient, UpstreamResponse } from '../providers/upstream-client.ts';
import { readJson, rejectUnsuccessful } from '../providers/upstream-body.ts';
import type { FileTarget } from './file-targets.ts';

type Json = Record<string, unknown>;

export interface ProviderCallOptions {
  method: 'GET' | 'POST' | 'DELETE';
  resource: string;
  query?: string;
  body?: string | Readable;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export async function callProvider(client: UpstreamClient, target: FileTarget, options: ProviderCallOptions): Promise<UpstreamResponse> {
  const response = await client.send({
    provider: target.name,
    url: target.url(options.resource, options.query),
    method: options.method,
    headers: { ...(options.headers ?? {}), ...target.headers },
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  await rejectUnsuccessful(response);
  return response;
}

/** A call whose answer is a JSON object (file, batch, list, deletion). */
export async function callProviderJson(client: UpstreamClient, target: FileTarget, options: ProviderCallOptions): Promise<Json> {
  const headers =
    options.body === undefined || typeof options.body !== 'string'
      ? options.headers
      : { 'content-type': 'application/json', ...options.headers };
  return readJson(await callProvider(client, target, { ...options, ...(headers ? { headers } : {}) }));
}
