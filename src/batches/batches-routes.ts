/**
 * The OpenAI Batch API (https://platform.openai.com/docs/api-reference/batch), native at the provider that holds
 * the input file: `POST /v1/batches` with `input_file_id` (a gateway file) or, as a gateway extension, inline
 * `requests`; list, retrieve, cancel; and `GET /v1/batches/{id}/results`, the output (then error) JSONL.
 * Every line's model goes through aliases and model access first; batch records live in the database, and each
 * item's usage is recorded once (src/batches/batch-usage.ts).
 */
import { GatewayError } from '../core/errors.ts';
import type { FileStore } from '../files/file-store.ts';
import { ownerOf } from '../files/file-store.ts';
import type { FileTarget, FileTargets } from '../files/file-targets.ts';
import type { FilesConfig } from '../files/files-config.ts';
import { listBody } from '../files/files-routes.ts';
import { encodeMultipart } from '../files/multipart-body.ts';
import { callProvider, callProviderJson } from '../files/provider-call.ts';
import type { GatewayReply, GatewayRequest, Route } from '../http/types.ts';
import type { UpstreamClient } from '../providers/upstream-client.ts';
import type { RoutingCatalog } from '../routing/routing-catalog.ts';
import { type LineRules, parsedLines, type SpooledInput, spoolLines } from './batch-input.ts';
import type { BatchService } from './batch-service.ts';
import type { BatchStore } from './batch-store.ts';
import { finalStatuses } from './batch-usage.ts';
import { jsonlLines } from './jsonl-lines.ts';

type Json = Record<string, unknown>;

export interface BatchesDependencies {
  config: FilesConfig;
  targets: FileTargets;
  files: FileStore;
  batches: BatchStore;
  service: BatchService;
  client: UpstreamClient;
  catalog: RoutingCatalog;
  providerNames: Set<string>;
}

const maxInputLineBytes = 16 * 1024 * 1024;

function invalid(message: string, param: string | null, code = 'invalid_request'): GatewayError {
  return new GatewayError(message, { status: 400, code, param, retryable: false });
}

function json(body: unknown): GatewayReply {
  return { kind: 'json', status: 200, body };
}

/** The provider of inline requests: `provider`, else the provider prefix of the first model, else the only one. */
function inlineTarget(dependencies: BatchesDependencies, body: Json, requests: unknown[]): FileTarget {
  if (typeof body.provider === 'string') return dependencies.targets.pick(body.provider);
  const first = requests[0] as { body?: { model?: unknown } } | undefined;
  const model = typeof first?.body?.model === 'string' ? first.body.model : '';
  const resolved = model ? (dependencies.catalog.aliasOf(model) ?? model) : '';
  const prefix = resolved.includes('/') ? resolved.slice(0, resolved.indexOf('/')) : '';
  const named = prefix ? dependencies.targets.byName(prefix) : undefined;
  return named ?? dependencies.targets.pick(undefined);
}

async function uploadInput(
  dependencies: BatchesDependencies,
  target: FileTarget,
  input: SpooledInput,
  signal: AbortSignal,
): Promise<string> {
  const multipart = encodeMultipart([['purpose', 'batch']], {
    field: 'file',
    filename: 'batch_input.jsonl',
    contentType: 'application/jsonl',
    path: input.path,
    bytes: input.bytes,
  });
  const object = await callProviderJson(dependencies.client, target, {
    method: 'POST',
    resource: 'files',
    body: multipart.body,
    headers: multipart.headers,
    signal,
  });
  return String(object.id ?? '');
}

async function create(dependencies: BatchesDependencies, request: GatewayRequest): Promise<GatewayReply> {
  const body = request.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('Expected a JSON object body', null);
  const fields = body as Json;
  const endpoint = fields.endpoint;
  if (typeof endpoint !== 'string' || endpoint === '') throw invalid("Missing required parameter: 'endpoint'", 'endpoint');
  const owner = ownerOf(request.keyId);
  let target: FileTarget;
  let input: SpooledInput;
  let inputFileId: string | null = null;
  let providerFileId: string | null = null;
  if (fields.requests !== undefined) {
    if (fields.input_file_id !== undefined) throw invalid("Give either 'input_file_id' or 'requests', not both", 'requests');
    if (!Array.isArray(fields.requests)) throw invalid("'requests' must be an array of {custom_id, body} objects", 'requests');
    target = inlineTarget(dependencies, fields, fields.requests);
    input = await spoolLines(fields.requests, rules(dependencies, target, endpoint), dependencies.config.spoolDir);
  } else {
    if (typeof fields.input_file_id !== 'string' || fields.input_file_id === '')
      throw invalid("Missing required parameter: 'input_file_id' (or 'requests')", 'input_file_id');
    const file = await dependencies.files.get(owner, fields.input_file_id);
    target = dependencies.targets.pick(file.provider);
    inputFileId = file.id;
    const content = await callProvider(dependencies.client, target, {
      method: 'GET',
      resource: `files/${encodeURIComponent(file.providerFileId)}/content`,
      signal: request.signal,
    });
    input = await spoolLines(
      parsedLines(jsonlLines(content.body, maxInputLineBytes, 'the input file')),
      rules(dependencies, target, endpoint),
      dependencies.config.spoolDir,
    );
    if (!input.changed) providerFileId = file.providerFileId;
  }
  try {
    providerFileId ??= await uploadInput(dependencies, target, input, request.signal);
  } finally {
    await input.discard();
  }
  const payload: Json = { input_file_id: providerFileId, endpoint, completion_window: fields.completion_window ?? '24h' };
  if (fields.metadata !== undefined) payload.metadata = fields.metadata;
  const object = await callProviderJson(dependencies.client, target, {
    method: 'POST',
    resource: 'batches',
    body: JSON.stringify(payload),
    signal: request.signal,
  });
  const batch = await dependencies.batches.add({
    owner,
    provider: target.name,
    providerBatchId: String(object.id ?? ''),
    endpoint,
    status: typeof object.status === 'string' ? object.status : 'validating',
    object: { ...object, gateway_input_file_id: inputFileId },
  });
  return json(await dependencies.service.publicBatch(batch));
}

function rules(dependencies: BatchesDependencies, target: FileTarget, endpoint: string): LineRules {
  return { catalog: dependencies.catalog, providerNames: dependencies.providerNames, target, endpoint };
}

async function list(dependencies: BatchesDependencies, request: GatewayRequest): Promise<GatewayReply> {
  const limitText = request.query.limit;
  const limit = limitText === undefined || limitText === '' ? 20 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalid("'limit' must be an integer from 1 to 100", 'limit');
  const { batches, hasMore } = await dependencies.batches.list(ownerOf(request.keyId), { limit, after: request.query.after });
  const data = await Promise.all(batches.map((batch) => dependencies.service.publicBatch(batch)));
  return json(listBody(data, hasMore));
}

async function retrieve(dependencies: BatchesDependencies, request: GatewayRequest): Promise<GatewayReply> {
  const batch = await dependencies.batches.get(ownerOf(request.keyId), request.params.id ?? '');
  if (!finalStatuses.has(batch.status) || batch.usageRecordedAt === null) await dependencies.service.refresh(batch, request.signal);
  return json(await dependencies.service.publicBatch(batch));
}

async function cancel(dependencies: BatchesDependencies, request: GatewayRequest): Promise<GatewayReply> {
  const batch = await dependencies.batches.get(ownerOf(request.keyId), request.params.id ?? '');
  const target = dependencies.service.targetOf(batch);
  const object = await callProviderJson(dependencies.client, target, {
    method: 'POST',
    resource: `batches/${encodeURIComponent(batch.providerBatchId)}/cancel`,
    signal: request.signal,
  });
  batch.object = { ...object, gateway_input_file_id: batch.object.gateway_input_file_id };
  if (typeof object.status === 'string') batch.status = object.status;
  await dependencies.batches.update(batch);
  return json(await dependencies.service.publicBatch(batch));
}

async function results(dependencies: BatchesDependencies, request: GatewayRequest): Promise<GatewayReply> {
  const batch = await dependencies.batches.get(ownerOf(request.keyId), request.params.id ?? '');
  if (!finalStatuses.has(batch.status) || batch.usageRecordedAt === null) await dependencies.service.refresh(batch, request.signal);
  if (!finalStatuses.has(batch.status)) {
    throw new GatewayError(`Batch ${batch.id} is ${batch.status}: its results exist once it is completed, cancelled, expired or failed`, {
      status: 409,
      code: 'batch_not_finished',
      retryable: true,
    });
  }
  // Usage is recorded before the first byte of results leaves (refresh settles a final batch).
  await dependencies.service.settle(batch);
  const target = dependencies.service.targetOf(batch);
  const fileIds = [batch.object.output_file_id, batch.object.error_file_id].filter(
    (id): id is string => typeof id === 'string' && id !== '',
  );
  const { client } = dependencies;
  const signal = request.signal;
  const open = (fileId: string) =>
    callProvider(client, target, { method: 'GET', resource: `files/${encodeURIComponent(fileId)}/content`, signal });
  // The first file is opened before the answer starts, so a provider error is still an error answer.
  const first = fileIds[0] === undefined ? null : await open(fileIds[0]);
  async function* body(): AsyncGenerator<Uint8Array> {
    for (const [index, fileId] of fileIds.entries()) {
      const response = index === 0 && first ? first : await open(fileId);
      let last: Uint8Array | null = null;
      for await (const chunk of response.body) {
        last = chunk as Uint8Array;
        yield last;
      }
      // Two files joined: make sure a line ends before the next file begins.
      if (last && last.length > 0 && last[last.length - 1] !== 10) yield Buffer.from('\n');
    }
  }
  return { kind: 'stream', status: 200, headers: { 'content-type': 'application/jsonl' }, body: body() };
}

export function createBatchesRoutes(dependencies: BatchesDependencies): Route[] {
  return [
    { method: 'POST', path: '/v1/batches', authenticated: true, handler: (request) => create(dependencies, request) },
    { method: 'GET', path: '/v1/batches', authenticated: true, handler: (request) => list(dependencies, request) },
    { method: 'GET', path: '/v1/batches/:id', authenticated: true, handler: (request) => retrieve(dependencies, request) },
    { method: 'POST', path: '/v1/batches/:id/cancel', authenticated: true, handler: (request) => cancel(dependencies, request) },
    { method: 'GET', path: '/v1/batches/:id/results', authenticated: true, handler: (request) => results(dependencies, request) },
  ];
}
