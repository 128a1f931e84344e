/**
 * The end of the pipeline: builds the upstream body for the call's target and calls the provider.
 * Records every attempt in the call's trace. For the Responses API it prefers the provider's native
 * endpoint; an OpenAI-type upstream without one (vLLM, LM Studio... answering 404/405 on
 * /responses) is remembered, so later calls translate through chat at once, and a genuine 404 (an
 * unknown model) is told apart from a missing endpoint and returned as it is.
 */
import { GatewayError, toGatewayError } from '../core/errors.ts';
import type { Operation } from '../core/outcome.ts';
import type { Provider, ProviderResult } from '../providers/types.ts';
import type { ModelCall } from './model-call.ts';
import type { Next } from './stage.ts';

export interface Dispatch extends Next {
  /** Providers found to lack a native Responses endpoint (for status pages). */
  nativeResponsesMissing(): string[];
}

function supports(provider: Provider, operation: Operation, missingNative: Set<string>): boolean {
  if (operation !== 'responses') return true;
  return provider.responses !== undefined && !missingNative.has(provider.name);
}

/** 404/405 from /responses that is about the endpoint, not the model. */
function isMissingEndpoint(error: unknown): boolean {
  if (!(error instanceof GatewayError)) return false;
  if (error.status === 405) return true;
  if (error.status !== 404) return false;
  if (error.code === 'model_not_found' || error.param === 'model') return false;
  return !/\bmodel\b/i.test(error.message);
}

function invoke(provider: Provider, operation: Operation, body: Record<string, unknown>, call: ModelCall): Promise<ProviderResult> {
  if (operation === 'chat') return provider.chatCompletions(body, call.context);
  if (operation === 'embeddings') return provider.embeddings(body, call.context);
  return (provider.responses as NonNullable<Provider['responses']>)(body, call.context);
}

export function createDispatch(): Dispatch {
  const missingNative = new Set<string>();

  async function attempt(call: ModelCall, operation: Operation): Promise<ProviderResult> {
    const target = call.target as NonNullable<ModelCall['target']>;
    const startedAt = performance.now();
    const record = (status: number, error: string | null) =>
      call.trace.attempts.push({
        provider: target.provider.name,
        model: target.model,
        operation,
        status,
        error,
        latencyMs: performance.now() - startedAt,
      });
    try {
      const body = await call.prepare(target, operation, call.body);
      const result = await invoke(target.provider, operation, body, call);
      record(result.status, null);
      call.trace.served = { target, operation };
      return result;
    } catch (error) {
      const gatewayError = toGatewayError(error);
      record(gatewayError.status, gatewayError.code);
      throw error;
    }
  }

  const dispatch = (async (call: ModelCall) => {
    const target = call.target;
    if (!target) throw new Error('pipeline reached dispatch without a target (is the resolve stage registered?)');
    const operations = call.operations.filter((operation) => supports(target.provider, operation, missingNative));
    if (operations.length === 0) {
      throw new GatewayError(`Provider '${target.provider.name}' cannot serve ${call.endpoint}`, {
        status: 400,
        code: 'unsupported_endpoint',
        retryable: false,
      });
    }
    const dropped = call.context.droppedParams.length;
    for (let index = 0; ; index++) {
      const operation = operations[index] as Operation;
      try {
        return await attempt(call, operation);
      } catch (error) {
        const last = index === operations.length - 1;
        if (last || operation !== 'responses' || !isMissingEndpoint(error)) throw error;
        missingNative.add(target.provider.name);
        call.context.droppedParams.length = dropped;
      }
    }
  }) as Dispatch;
  dispatch.nativeResponsesMissing = () => [...missingNative];
  return dispatch;
}
