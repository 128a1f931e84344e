/**
 * The Gemini API, inbound, for every provider (https://ai.google.dev/api): `POST /v1beta/models/{model}:
 * generateContent | streamGenerateContent | countTokens | embedContent | batchEmbedContents`, `GET
 * /v1beta/models` and `GET /v1beta/models/{model}`, so `@google/genai` and Gemini CLI can use any model behind
 * the gateway. Calls are translated to the canonical chat / embeddings call and handed to the pipeline; the
 * key is read from `x-goog-api-key` (or `Authorization` / `x-api-key`), or from `?key=` (scrubbed from the URL);
 * every error, auth and body parsing included, is Google-shaped.
 */
import { GatewayError } from '../core/errors.ts';
import type { GatewayReply, GatewayRequest, Route } from '../http/types.ts';
import type { RoutingCatalog } from '../routing/routing-catalog.ts';
import { callHeaders, type RouteDependencies, requireObjectBody, trackCall, withTracking } from '../routes/model-call.ts';
import { countTokens } from './gemini-count-tokens.ts';
import { geminiEmbedToOpenAI, openAIEmbeddingsToGemini } from './gemini-embeddings.ts';
import { handleGenerate } from './gemini-generate.ts';
import { geminiModel, geminiModelsPage, getModel, type ListedModel, listModels } from './gemini-models.ts';
import { googleErrorBody } from './google-errors.ts';

export interface GeminiRouteDependencies extends RouteDependencies {
  catalog?: RoutingCatalog;
}

const actions = ['generateContent', 'streamGenerateContent', 'countTokens', 'embedContent', 'batchEmbedContents'] as const;
type Action = (typeof actions)[number];

/** `{model}:{action}` from the path after `/v1beta/models/` (a model may contain slashes: `openai/gpt-4o`). */
export function parseModelAction(rest: string): { model: string; action: Action } {
  const colon = rest.lastIndexOf(':');
  const model = colon === -1 ? '' : decodeURIComponent(rest.slice(0, colon));
  const action = colon === -1 ? '' : rest.slice(colon + 1);
  if (model === '' || !(actions as readonly string[]).includes(action)) {
    throw new GatewayError(`Unknown method: POST /v1beta/models/${rest} (use {model}:${actions.join('|:')})`, {
      status: 404,
      code: 'unknown_endpoint',
      retryable: false,
    });
  }
  return { model, action: action as Action };
}

const embeddingsOperations = ['embeddings'] as const;

async function handleEmbed(dependencies: RouteDependencies, request: GatewayRequest, model: string, batch: boolean): Promise<GatewayReply> {
  const body = requireObjectBody(request.body);
  const tracker = trackCall(dependencies, request, 'gemini', { ...body, model }, false);
  return withTracking(tracker, async () => {
    // Translated once, before any stage: the pipeline carries the canonical embeddings body.
    const dropped: string[] = [];
    const embeddings = geminiEmbedToOpenAI(body, model, batch, dropped);
    const call = tracker.start({
      endpoint: 'gemini',
      requestedModel: model,
      body: embeddings,
      stream: false,
      operations: embeddingsOperations,
      prepare: (target, _operation, current) => ({ ...current, model: target.model }),
    });
    call.context.droppedParams.push(...dropped);
    const result = await dependencies.pipeline.run(call);
    if (result.kind !== 'json') throw new Error('embeddings answered with a stream');
    const answer = openAIEmbeddingsToGemini(result.body, batch);
    tracker.finish({ status: 200, usage: result.usage, responseBody: answer, responseHeaders: result.headers });
    return { kind: 'json', status: 200, headers: callHeaders(tracker, result.headers), body: answer };
  });
}

function handleModelAction(dependencies: GeminiRouteDependencies, request: GatewayRequest): Promise<GatewayReply> {
  const { model, action } = parseModelAction(request.params['*'] ?? '');
  if (action === 'generateContent') return handleGenerate(dependencies, request, model, 'json');
  if (action === 'streamGenerateContent')
    return handleGenerate(dependencies, request, model, request.query.alt === 'sse' ? 'sse' : 'array');
  if (action === 'countTokens') return countTokens(request);
  return handleEmbed(dependencies, request, model, action === 'batchEmbedContents');
}

function notFound(request: GatewayRequest): never {
  throw new GatewayError(`Unknown endpoint ${request.method} ${request.path}`, { status: 404, code: 'unknown_endpoint', retryable: false });
}

const common = { authenticated: true, errorBody: googleErrorBody, keyQueryParameter: 'key' } as const;

/**
 * The routes under `/v1beta` (the Gemini API's version for new features) and the model actions under `/v1`
 * (the default of @google/genai 1.x and later); GET /v1/models is OpenAI's, see `withGeminiModelListing`.
 */
export function createGeminiRoutes(dependencies: GeminiRouteDependencies): Route[] {
  const models = { registry: dependencies.registry, catalog: dependencies.catalog };
  return [
    { ...common, method: 'POST', path: '/v1beta/models/*', handler: (request) => handleModelAction(dependencies, request) },
    { ...common, method: 'POST', path: '/v1/models/*', handler: (request) => handleModelAction(dependencies, request) },
    {
      ...common,
      method: 'GET',
      path: '/v1beta/models',
      handler: async (request) => {
        await models.registry.ready();
        return listModels(models, request);
      },
    },
    {
      ...common,
      method: 'GET',
      path: '/v1beta/models/*',
      handler: async (request) => {
        await models.registry.ready();
        return getModel(models, request);
      },
    },
    // Anything else under /v1beta answers in Google's shape too (the SDK reads that body).
    {
      ...common,
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      path: '/v1beta/*',
      handler: async (request) => notFound(request),
    },
  ];
}

/**
 * GET /v1/models and /v1/models/{model} serve OpenAI clients; a request carrying `x-goog-api-key` (how
 * Google's clients authenticate, never sent by OpenAI's) gets the same models in the Gemini API's shape.
 * The OpenAI handler still runs (and with it every check wrapped around it); only its answer is rewritten.
 */
export function withGeminiModelListing(route: Route): Route {
  if (route.method !== 'GET' || (route.path !== '/v1/models' && route.path !== '/v1/models/*')) return route;
  const { handler } = route;
  const list = route.path === '/v1/models';
  return {
    ...route,
    handler: async (request) => {
      const reply = await handler(request);
      if (request.headers['x-goog-api-key'] === undefined || reply.kind !== 'json' || reply.status !== 200) return reply;
      const body = reply.body as { data?: ListedModel[]; id?: string; owned_by?: string };
      const gemini = list ? geminiModelsPage(body.data ?? [], request.query) : geminiModel(String(body.id), String(body.owned_by));
      return reply.headers
        ? { kind: 'json', status: 200, headers: reply.headers, body: gemini }
        : { kind: 'json', status: 200, body: gemini };
    },
  };
}
