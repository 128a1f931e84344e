/**
 * The most a call can cost before it runs, and what it cost after, in nano-dollars (integers, so that
 * shared-state counters add exactly; $1 = 10^9).
 *
 * Worst case = input tokens at most the request body's bytes (a BPE token is at least one byte, so a text
 * prompt never has more tokens than bytes) at the model's highest input price (cache writes cost more than
 * plain input at Anthropic), plus the output the call allows (`max_completion_tokens`, `max_tokens` or
 * `max_output_tokens`; BUDGET_DEFAULT_MAX_OUTPUT_TOKENS when it names none; none for embeddings) at the
 * output price.
 */
import { headerValue } from '../../http/types.ts';
import type { ModelCall } from '../../pipeline/model-call.ts';
import type { ModelPrice } from '../../usage/pricing.ts';

export const nanoPerUsd = 1_000_000_000;

/** USD per million tokens -> nano-dollars per token. */
const perToken = (usdPerMillion: number) => usdPerMillion * 1000;

function bodyBytes(call: ModelCall): number {
  const declared = Number(headerValue(call.request.headers, 'content-length'));
  if (Number.isSafeInteger(declared) && declared > 0) return declared;
  return Buffer.byteLength(JSON.stringify(call.body));
}

function allowedOutput(call: ModelCall, fallback: number): number {
  if (call.endpoint === 'embeddings') return 0;
  const body = call.body;
  for (const field of ['max_completion_tokens', 'max_tokens', 'max_output_tokens']) {
    const value = body[field];
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) return Math.ceil(value);
  }
  return fallback;
}

export function worstCaseNano(call: ModelCall, price: ModelPrice, defaultMaxOutputTokens: number): number {
  const inputPrice = Math.max(price.input, price.cacheWrite ?? 0, price.cachedInput ?? 0);
  const nano = bodyBytes(call) * perToken(inputPrice) + allowedOutput(call, defaultMaxOutputTokens) * perToken(price.output);
  return Math.min(Number.MAX_SAFE_INTEGER, Math.ceil(nano));
}

export function usdToNano(usd: number): number {
  return Math.min(Number.MAX_SAFE_INTEGER, Math.ceil(usd * nanoPerUsd - 1e-6));
}
