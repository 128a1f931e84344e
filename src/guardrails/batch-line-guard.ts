/**
 * Input guardrails on batch lines (ENABLE_GUARDRAILS_FOR_BATCH_PROCESSING, with GUARDRAILS_ENABLED): when a
 * batch is created (inline `requests` or an input file), each chat completions or Responses line's body gets
 * the input guardrails a call gets (input-guard.ts) before the lines are sent to the provider. A block refuses
 * the whole batch with 400 `guardrail_blocked` naming the line and the guardrail; masks, rewrites and system
 * prompts change the line that goes upstream. The batch's workflow (its `guardrails` list) chooses which
 * guardrails run, as it does for a call. Reversible PII placeholders are not restored in batch results
 * (the results are fetched later, from the provider). Decisions are counted in the decision metrics.
 * Embeddings lines are not checked, as embeddings calls are not.
 */
import type { BatchLineGuard } from '../batches/batch-input.ts';
import { GatewayError } from '../core/errors.ts';
import type { Endpoint } from '../core/outcome.ts';
import type { GatewayRequest } from '../http/types.ts';
import type { CallPolicy } from '../pipeline/call-policy.ts';
import { createModelCall } from '../pipeline/model-call.ts';
import type { GuardrailMetrics } from './guardrail-metrics.ts';
import type { GuardrailSelection } from './guardrail-selection.ts';
import { guardInput } from './input-guard.ts';
import { requestShape } from './request-text.ts';

/** Batch line URLs (https://platform.openai.com/docs/api-reference/batch/request-input) whose bodies are checked. */
const checkedUrls: Record<string, Endpoint> = { '/v1/chat/completions': 'chat.completions', '/v1/responses': 'responses' };

export function createBatchLineGuard(
  select: (policy: CallPolicy | null) => GuardrailSelection,
  metrics: GuardrailMetrics,
): (request: GatewayRequest, policy: CallPolicy | null) => BatchLineGuard {
  return (request, policy) =>
    async ({ body, url, index }) => {
      const endpoint = checkedUrls[url];
      const shape = endpoint === undefined ? null : requestShape(endpoint);
      const selection = select(policy);
      if (!endpoint || !shape || (selection.input.length === 0 && selection.systemPrompts.length === 0)) return null;
      const call = createModelCall(request, {
        endpoint,
        requestedModel: String(body.model),
        body,
        stream: false,
        operations: [],
        prepare: (_target, _operation, prepared) => prepared,
      });
      try {
        const guarded = await guardInput(selection, call, shape, body, new Map());
        return guarded === body ? null : guarded;
      } catch (error) {
        if (error instanceof GatewayError && error.code === 'guardrail_blocked') {
          throw new GatewayError(`Batch line ${index}: ${error.message}`, {
            status: 400,
            code: 'guardrail_blocked',
            param: 'requests',
            retryable: false,
            headers: error.headers,
          });
        }
        throw error;
      } finally {
        metrics.recordTrace(call.trace);
      }
    };
}
