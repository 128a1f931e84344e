/** POST /v1/embeddings. */
import { invalidRequest } from '../core/errors.ts';
import type { Route } from '../http/types.ts';
import { callHeaders, jsonReply, requireModel, requireObjectBody, type RouteDependencies, trackCall, withTracking } from './model-call.ts';

const embeddingsOperations = ['embeddings'] as const;

export function createEmbeddingsRoute(dependencies: RouteDependencies): Route {
  return {
    method: 'POST',
    path: '/v1/embeddings',
    authenticated: true,
    handler: async (request) => {
      const body = requireObjectBody(request.body);
      const tracker = trackCall(dependencies, request, 'embeddings', body, false);
      return withTracking(tracker, async () => {
        const model = requireModel(body);
        const input = body.input;
        if (input === undefined || input === null || input === '' || (Array.isArray(input) && input.length === 0)) {
          throw invalidRequest("Missing required parameter: 'input'", 'input', 'missing_required_parameter');
        }
        const call = tracker.start({
          endpoint: 'embeddings',
          requestedModel: model,
          body,
          stream: false,
          operations: embeddingsOperations,
          prepare: (target) => ({ ...body, model: target.model }),
        });
        const result = await dependencies.pipeline.run(call);
        if (result.kind !== 'json') throw new Error('embeddings answered with a stream');
        tracker.finish({ status: result.status, usage: result.usage, responseBody: result.body, responseHeaders: result.headers });
        return jsonReply(result, callHeaders(tracker, result.headers));
      });
    },
  };
}
