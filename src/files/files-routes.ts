/**
 * The OpenAI Files API (https://platform.openai.com/docs/api-reference/files) over the configured providers
 * that have one: uploads are spooled to disk and streamed on, downloads streamed through; every file belongs
 * to the gateway key that uploaded it. Clients see gateway ids (`file-mg...`), mapped to the provider's.
 */
import { GatewayError } from '../core/errors.ts';
import type { GatewayReply, GatewayRequest, Route } from '../http/types.ts';
import type { UpstreamClient } from '../providers/upstream-client.ts';
import type { FileStore, StoredFile } from './file-store.ts';
import { ownerOf } from './file-store.ts';
import type { FileTargets } from './file-targets.ts';
import type { FilesConfig } from './files-config.ts';
import { encodeMultipart } from './multipart-body.ts';
import { receiveUpload } from './multipart-upload.ts';
import { callProvider, callProviderJson } from './provider-call.ts';

type Json = Record<string, unknown>;

export interface FilesDependencies {
  config: FilesConfig;
  targets: FileTargets;
  store: FileStore;
  client: UpstreamClient;
}

/** The provider's file object as the client sees it: the gateway id in place of the provider's. */
export function publicFile(file: StoredFile): Json {
  return { ...file.object, id: file.id, object: 'file' };
}

function json(body: unknown, status = 200): GatewayReply {
  return { kind: 'json', status, body };
}

function invalidParameter(message: string, param: string): GatewayError {
  return new GatewayError(message, { status: 400, code: 'invalid_request', param, retryable: false });
}

function parseLimit(value: string | undefined, fallback: number, maximum: number): number {
  if (value === undefined || value === '') return fallback;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > maximum)
    throw invalidParameter(`'limit' must be an integer from 1 to ${maximum}`, 'limit');
  return limit;
}

export function parseOrder(value: string | undefined): 'asc' | 'desc' {
  if (value === undefined || value === '' || value === 'desc') return 'desc';
  if (value === 'asc') return 'asc';
  throw invalidParameter("'order' must be 'asc' or 'desc'", 'order');
}

/** OpenAI's list envelope (https://platform.openai.com/docs/api-reference/files/list). */
export function listBody(data: Json[], hasMore: boolean): Json {
  return {
    object: 'list',
    data,
    first_id: (data[0]?.id as string | undefined) ?? null,
    last_id: (data.at(-1)?.id as string | undefined) ?? null,
    has_more: hasMore,
  };
}

async function upload(dependencies: FilesDependencies, request: GatewayRequest): Promise<GatewayReply> {
  const received = await receiveUpload(request, {
    maxFileBytes: dependencies.config.maxUploadBytes,
    spoolDir: dependencies.config.spoolDir,
  });
  try {
    const purpose = received.fields.get('purpose');
    if (!purpose) throw invalidParameter("Missing required parameter: 'purpose'", 'purpose');
    if (!received.file) throw invalidParameter("Missing required parameter: 'file'", 'file');
    const target = dependencies.targets.pick(received.fields.get('provider') ?? request.query.provider);
    // Every field but the gateway's own `provider` goes on (purpose, expires_after[...]).
    const fields = [...received.fields].filter(([name]) => name !== 'provider');
    const multipart = encodeMultipart(fields, { field: 'file', ...received.file });
    const object = await callProviderJson(dependencies.client, target, {
      method: 'POST',
      resource: 'files',
      body: multipart.body,
      headers: multipart.headers,
      signal: request.signal,
    });
    const stored = await dependencies.store.add({
      owner: ownerOf(request.keyId),
      provider: target.name,
      providerFileId: String(object.id ?? ''),
      filename: typeof object.filename === 'string' ? object.filename : received.file.filename,
      purpose: typeof object.purpose === 'string' ? object.purpose : purpose,
      bytes: typeof object.bytes === 'number' ? object.bytes : received.file.bytes,
      status: typeof object.status === 'string' ? object.status : 'uploaded',
      object,
    });
    return json(publicFile(stored));
  } finally {
    await received.discard();
  }
}

async function list(dependencies: FilesDependencies, request: GatewayRequest): Promise<GatewayReply> {
  const { files, hasMore } = await dependencies.store.list(ownerOf(request.keyId), {
    purpose: request.query.purpose,
    provider: request.query.provider,
    limit: parseLimit(request.query.limit, 10_000, 10_000),
    order: parseOrder(request.query.order),
    after: request.query.after,
  });
  return json(listBody(files.map(publicFile), hasMore));
}

async function retrieve(dependencies: FilesDependencies, request: GatewayRequest): Promise<GatewayReply> {
  const file = await dependencies.store.get(ownerOf(request.keyId), request.params.id ?? '');
  const target = dependencies.targets.byName(file.provider);
  if (target) {
    const object = await callProviderJson(dependencies.client, target, {
      method: 'GET',
      resource: `files/${encodeURIComponent(file.providerFileId)}`,
      signal: request.signal,
    });
    file.object = object;
    if (typeof object.status === 'string') file.status = object.status;
    await dependencies.store.update(file);
  }
  return json(publicFile(file));
}

async function remove(dependencies: FilesDependencies, request: GatewayRequest): Promise<GatewayReply> {
  const owner = ownerOf(request.keyId);
  const file = await dependencies.store.get(owner, request.params.id ?? '');
  const target = dependencies.targets.byName(file.provider);
  if (target) {
    try {
      await callProviderJson(dependencies.client, target, {
        method: 'DELETE',
        resource: `files/${encodeURIComponent(file.providerFileId)}`,
        signal: request.signal,
      });
    } catch (error) {
      // Already gone at the provider: the gateway's record goes too.
      if (!(error instanceof GatewayError && error.status === 404)) throw error;
    }
  }
  await dependencies.store.remove(owner, file.id);
  return json({ id: file.id, object: 'file', deleted: true });
}

const relayedHeaders = ['content-type', 'content-length', 'content-disposition'];

async function content(dependencies: FilesDependencies, request: GatewayRequest): Promise<GatewayReply> {
  const file = await dependencies.store.get(ownerOf(request.keyId), request.params.id ?? '');
  const target = dependencies.targets.byName(file.provider);
  if (!target)
    throw new GatewayError(`The provider '${file.provider}' of file ${file.id} is no longer configured`, {
      status: 502,
      code: 'provider_not_configured',
      retryable: false,
    });
  const response = await callProvider(dependencies.client, target, {
    method: 'GET',
    resource: `files/${encodeURIComponent(file.providerFileId)}/content`,
    signal: request.signal,
  });
  const headers: Record<string, string> = {};
  for (const name of relayedHeaders) {
    const value = response.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  headers['content-type'] ??= 'application/octet-stream';
  return { kind: 'stream', status: 200, headers, body: response.body };
}

export function createFilesRoutes(dependencies: FilesDependencies): Route[] {
  return [
    { method: 'POST', path: '/v1/files', authenticated: true, streamBody: true, handler: (request) => upload(dependencies, request) },
    { method: 'GET', path: '/v1/files', authenticated: true, handler: (request) => list(dependencies, request) },
    { method: 'GET', path: '/v1/files/:id', authenticated: true, handler: (request) => retrieve(dependencies, request) },
    { method: 'DELETE', path: '/v1/files/:id', authenticated: true, handler: (request) => remove(dependencies, request) },
    { method: 'GET', path: '/v1/files/:id/content', authenticated: true, handler: (request) => content(dependencies, request) },
  ];
}
