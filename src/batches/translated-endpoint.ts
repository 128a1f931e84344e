/**
 * The one endpoint translated batches (Anthropic Message Batches, Gemini Batch API) can run: chat completions.
 * Both the batch's `endpoint` and each line's `url` must name it.
 */
import { GatewayError } from '../core/errors.ts';

export const translatedBatchEndpoint = '/v1/chat/completions';

/** Throws the 400 a batch for another endpoint gets from a translated provider (`Anthropic`, `Gemini`). */
export function requireTranslatedEndpoint(providerLabel: string, endpoint: string): void {
  if (endpoint === translatedBatchEndpoint) return;
  throw new GatewayError(`Batches at ${providerLabel} run ${translatedBatchEndpoint} only, not '${endpoint}'`, {
    status: 400,
    code: 'unsupported_endpoint',
    param: 'endpoint',
    retryable: false,
  });
}
