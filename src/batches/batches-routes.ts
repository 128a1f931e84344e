/**
 * The OpenAI Batch API (https://platform.openai.com/docs/api-reference/batch), run by a provider adapter
 * (src/batches/batch-provider.ts: native at OpenAI, Azure OpenAI and Groq; translated for Anthropic and Gemini): `POST /v1/batches` with `input_file_id` (a gateway file) or, as a gateway extension, inline
 * `requests`; list, retrieve, cancel; and `GET /v1/batches/{id}/results`, the output (then error) JSONL.
 * Every line's model goes through aliases and model access first; batch records live in the database, and each
 * item's usage is recorded once (src/batches/batch-usage.ts). The workflow that applies to the batch (resolved
 * once, at creation) chooses the input guardrails of its lines and whether its usage rows are written.
 */
import { GatewayError } from '../core/errors.ts';
import type { FileStore } from '../files/file-store.ts';
import { ownerOf } from '../files/file-store.ts';
import type { FileTargets } from '../files/file-targets.ts';
import type { FilesConfig } from '../files/files-config.ts';
import { listBody } from '../files/files-routes.ts';
import { callProvider } from '../files/provider-call.ts';
import type { ModelRegistry } from '../core/model-registry.ts';
import type { KeyModelAccess } from '../core/outcome.ts';
import type { GatewayReply, GatewayRequest, Route } from '../http/types.ts';
import type { CallPolicy } from '../pipeline/call-policy.ts';
import type { UpstreamClient } from '../providers/upstream-client.ts';
import type { RoutingCatalog } from '../routing/routing-catalog.ts';
import { followAliases } from '../routing/stages/alias-stage.ts';
import { type BatchLineGuard, type LineRules, parsedLines, type SpooledInput, spoolLines } from './batch-input.ts';
import type { BatchProvider, BatchProviders, ProviderBatch } from './batch-provider.ts';
import type { BatchService } from './batch-service.ts';
import type { BatchStore } from './batch-store.ts';
import { finalStatuses } from './batch-usage.ts';
import { jsonlLines } from './jsonl-lines.ts';
import type { WorkflowQuery } from '../workflows/workflow-lookup.ts';

type Json = Record<string, unknown>;

export interface BatchesDependencies {
  config: FilesConfig;
  /** Where caller files live (OpenAI, Azure OpenAI, Groq): an input file is read from its provider. */
  fileTargets: FileTargets;
  files: FileStore;
  batches: BatchStore;
  providers: BatchProviders;
  service: BatchService;
  client: UpstreamClient;
  catalog: RoutingCatalog;
  registry: ModelRegistry;
  providerNames: Set<string>;
  /** Checks each line of a batch created by `request` (input guardrails, as the batch's workflow selects them), when switched on. */
  lineGuard?: (request: GatewayRequest, policy: CallPolicy | null) => BatchLineGuard;
  /** The workflow that applies to a batch (set by workflows, read at each request). */
  workflowFor?: () => ((query: WorkflowQuery) => Promise<CallPolicy | null>) | undefined;
  /** A managed key's model lists (set by governance, read at each request). */
  keyModelAccess?: () => KeyModelAccess | undefined;
}

const maxInputLineBytes = 16 * 1024 * 1024;

function invalid(message: string, param: string | null, code = 'invalid_request'): GatewayError {
  return new GatewayError(message, { status: 400, code, param, retryable: false });
}

function json(body: unknown): GatewayReply {
  return { kind: 'json', status: 200, body };
}

/**
 * The provider that runs a batch: `provider`, else the provider prefix of the first line's model (after aliases),
 * else the provider serving that model (the input file's own provider first), else the input file's provider,
 * else the only one.
 */
async function chooseProvider(
  dependencies: BatchesDependencies,
  named: unknown,
  first: unknown,
  fileProvider: string | undefined,
): Promise<BatchProvider> {
  if (typeof named === 'string' && named !== '') return dependencies.providers.pick(named);
  const body = (first as { body?: { model?: unknown } } | undefined)?.body;
  const requested = typeof body?.model === 'string' ? body.model : '';
  const model = requested ? followAliases(dependencies.catalog, requested) : '';
  const slash = model.indexOf('/');
  const prefixed = slash > 0 ? dependencies.providers.byName(model.slice(0, slash)) : undefined;
  if (prefixed) return prefixed;
  if (model !== '') {
    const servedByFile = dependencies.registry.list().some((entry) => entry.provider === fileProvider && entry.id === model);
    const served = servedByFile ? undefined : (await dependencies.registry.resolve(model))?.provider.name;
    const provider = served === undefined ? undefined : dependencies.providers.byName(served);
    if (provider) return provider;
  }
  const ofFile = fileProvider === undefined ? undefined : dependencies.providers.byName(fileProvider);
  return ofFile ?? dependencies.providers.pick(undefined);
}

/**
 * The workflow of a batch: resolved once, when it is created, for its key, the provider that runs it and the
 * first line's model (as requested, and what aliases make of it at that provider), like the provider itself.
 */
async function batchPolicy(
  dependencies: BatchesDependencies,
  request: GatewayRequest,
  provider: BatchProvider,
  first: unknown,
): Promise<CallPolicy | null> {
  const workflowFor = dependencies.workflowFor?.();
  if (!workflowFor) return null;
  const body = (first as { body?: { model?: unknown } } | undefined)?.body;
  const requested = typeof body?.model === 'string' ? body.model : '';
  let model = requested;
  try {
    model = requested ? followAliases(dependencies.catalog, requested) : '';
  } catch {
    // An alias cycle: the line is refused when it is prepared.
  }
  if (model.startsWith(`${provider.name}/`)) model = model.slice(provider.name.length + 1);
  return workflowFor({ keyId: request.keyId, requestedModel: requested, provider: provider.name, model });
}

/** The first item of a stream of lines, and the stream again from the start. */
async function peek(lines: AsyncIterable<unknown>): Promise<{ first: unknown; all: AsyncIterable<unknown> }> {
  const iterator = lines[Symbol.asyncIterator]();
  const head = await iterator.next();
  async function* all(): AsyncGenerator<unknown> {
    if (head.done) return;
    yield head.value;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  return { first: head.done ? undefined : head.value, all: all() };
}

async function create(dependencies: BatchesDependencies, request: GatewayRequest): Promise<GatewayReply> {
  const body = request.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw invalid('Expected a JSON object body', null);
  const fields = body as Json;
  const endpoint = fields.endpoint;
  if (typeof endpoint !== 'string' || endpoint === '') throw invalid("Missing required parameter: 'endpoint'", 'endpoint');
  const owner = ownerOf(request.keyId);
  let provider: BatchProvider;
  let policy: CallPolicy | null;
  let input: SpooledInput;
  let inputFileId: string | null = null;
  let unchangedFileId: string | null = null;
  if (fields.requests !== undefined) {
    if (fields.input_file_id !== undefined) throw invalid("Give either 'input_file_id' or 'requests', not both", 'requests');
    if (!Array.isArray(fields.requests)) throw invalid("'requests' must be an array of {custom_id, body} objects", 'requests');
    provider = await chooseProvider(dependencies, fields.provider, fields.requests[0], undefined);
    policy = await batchPolicy(dependencies, request, provider, fields.requests[0]);
    input = await spoolLines(fields.requests, rules(dependencies, provider, endpoint, request, policy), dependencies.config.spoolDir);
  } else {
    if (typeof fields.input_file_id !== 'string' || fields.input_file_id === '')
      throw invalid("Missing required parameter: 'input_file_id' (or 'requests')", 'input_file_id');
    const file = await dependencies.files.get(owner, fields.input_file_id);
    const fileTarget = dependencies.fileTargets.pick(file.provider);
    inputFileId = file.id;
    const content = await callProvider(dependencies.client, fileTarget, {
      method: 'GET',
      resource: `files/${encodeURIComponent(file.providerFileId)}/content`,
      signal: request.signal,
    });
    const { first, all } = await peek(parsedLines(jsonlLines(content.body, maxInputLineBytes, 'the input file')));
    provider = await chooseProvider(dependencies, fields.provider, first, file.provider);
    policy = await batchPolicy(dependencies, request, provider, first);
    input = await spoolLines(all, rules(dependencies, provider, endpoint, request, policy), dependencies.config.spoolDir);
    if (!input.changed && provider.name === file.provider) unchangedFileId = file.providerFileId;
  }
  let reported: ProviderBatch;
  try {
    reported = await provider.create(input, {
      endpoint,
      completionWindow: fields.completion_window,
      metadata: fields.metadata,
      unchangedFileId,
      signal: request.signal,
    });
  } finally {
    await input.discard();
  }
  const batch = await dependencies.batches.add({
    owner,
    provider: provider.name,
    providerBatchId: reported.id,
    endpoint,
    status: reported.status,
    object: {
      ...reported.object,
      gateway_input_file_id: inputFileId,
      // What the batch's workflow decided for its usage rows, recorded when it finishes.
      ...(policy ? { gateway_workflow: { name: policy.workflow, version: policy.version, usage: policy.usage } } : {}),
    },
  });
  return json(await dependencies.service.publicBatch(batch));
}

function rules(
  dependencies: BatchesDependencies,
  provider: BatchProvider,
  endpoint: string,
  request: GatewayRequest,
  policy: CallPolicy | null,
): LineRules {
  const found: LineRules = { catalog: dependencies.catalog, providerNames: dependencies.providerNames, target: provider, endpoint };
  if (dependencies.lineGuard) found.guard = dependencies.lineGuard(request, policy);
  const access = dependencies.keyModelAccess?.();
  const keyId = request.keyId;
  if (access && keyId !== null) found.keyAccess = (requested, target) => access(keyId, requested, target);
  return found;
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
  const provider = dependencies.service.providerOf(batch);
  await dependencies.service.save(batch, await provider.cancel(batch, request.signal));
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
  const body = await dependencies.service.providerOf(batch).results(batch, request.signal);
  return { kind: 'stream', status: 200, headers: { 'content-type': 'application/jsonl' }, body };
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
