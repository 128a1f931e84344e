/**
 * `GET /v1beta/models` and `GET /v1beta/models/{model}` in the Gemini API's shape (https://ai.google.dev/api/models):
 * `{models: [{name: "models/<id>", baseModelId, version, displayName, supportedGenerationMethods}], nextPageToken}`,
 * paged by `pageSize` (default 50, at most 1000, as Google documents) and an opaque `pageToken`. The models are the
 * ones GET /v1/models lists (providers' models, aliases, virtual models).
 */
import { GatewayError, invalidRequest } from '../core/errors.ts';
import type { ModelRegistry } from '../core/model-registry.ts';
import type { GatewayReply, GatewayRequest } from '../http/types.ts';
import type { Json } from '../providers/types.ts';
import type { RoutingCatalog } from '../routing/routing-catalog.ts';
import { listedModels } from '../routes/models.ts';

export interface GeminiModelsSource {
  registry: ModelRegistry;
  catalog: RoutingCatalog | undefined;
}

const chatMethods = ['generateContent', 'streamGenerateContent', 'countTokens'];
const embeddingMethods = ['embedContent', 'batchEmbedContents'];

export function geminiModel(id: string, owner: string): Json {
  return {
    name: `models/${id}`,
    baseModelId: id,
    version: owner,
    displayName: id,
    description: `${id} (served by ${owner} through Modelgate)`,
    supportedGenerationMethods: /embed/i.test(id) ? embeddingMethods : chatMethods,
  };
}

function pageSize(value: string | undefined): number {
  if (value === undefined || value === '') return 50;
  const size = Number(value);
  if (!Number.isInteger(size) || size < 0) throw invalidRequest('pageSize must be a non-negative integer', 'pageSize', 'invalid_value');
  return size === 0 ? 50 : Math.min(size, 1000);
}

function pageStart(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  const start = Number(Buffer.from(token, 'base64url').toString('utf8'));
  if (!Number.isInteger(start) || start < 0) throw invalidRequest('pageToken is not valid', 'pageToken', 'invalid_value');
  return start;
}

export interface ListedModel {
  id: string;
  owned_by: string;
}

/** One page of models in Gemini's shape. */
export function geminiModelsPage(all: ListedModel[], query: Record<string, string>): Json {
  const size = pageSize(query.pageSize);
  const start = pageStart(query.pageToken);
  const page = all.slice(start, start + size);
  const body: Json = { models: page.map((model) => geminiModel(model.id, model.owned_by)) };
  if (start + size < all.length) body.nextPageToken = Buffer.from(String(start + size)).toString('base64url');
  return body;
}

export function listModels(source: GeminiModelsSource, request: GatewayRequest): GatewayReply {
  return { kind: 'json', status: 200, body: geminiModelsPage(listedModels(source.registry, source.catalog), request.query) };
}

export function getModel(source: GeminiModelsSource, request: GatewayRequest): GatewayReply {
  const id = decodeURIComponent(request.params['*'] ?? '').replace(/^models\//, '');
  const entry = listedModels(source.registry, source.catalog).find((model) => model.id === id);
  if (!entry) throw new GatewayError(`models/${id} is not found for API version v1beta`, { status: 404, code: 'model_not_found', param: 'model' });
  return { kind: 'json', status: 200, body: geminiModel(entry.id, entry.owned_by) };
}
