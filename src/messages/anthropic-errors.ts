/**
 * Errors on the Anthropic-compatible endpoint in Anthropic's shape
 * (https://docs.anthropic.com/en/api/errors): {"type":"error","error":{"type","message"}}, with the
 * HTTP status kept, so the Anthropic SDK raises the matching error class.
 */
import type { GatewayError } from '../core/errors.ts';

export function anthropicErrorType(status: number): string {
  if (status === 400 || status === 422) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 503 || status === 529) return 'overloaded_error';
  if (status === 504) return 'timeout_error';
  if (status >= 400 && status < 500) return 'invalid_request_error';
  return 'api_error';
}

export function anthropicErrorBody(error: GatewayError): { type: 'error'; error: { type: string; message: string } } {
  return { type: 'error', error: { type: anthropicErrorType(error.status), message: error.message } };
}

const anthropicTypes = new Set([
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'request_too_large',
  'rate_limit_error',
  'api_error',
  'overloaded_error',
  'timeout_error',
]);

/**
 * The `error` event for a failure in the middle of a stream, from the gateway's OpenAI-shaped body.
 * An Anthropic type carried as the error's type or code (the Anthropic provider keeps it, e.g.
 * `overloaded_error`, which clients retry) is kept; anything else is `api_error`.
 */
export function anthropicStreamErrorBody(body: unknown): { type: 'error'; error: { type: string; message: string } } {
  const error = (body !== null && typeof body === 'object' ? (body as { error?: unknown }).error : undefined) as
    | { type?: unknown; code?: unknown; message?: unknown }
    | undefined;
  const candidates = [error?.type, error?.code];
  const type =
    candidates.find((candidate): candidate is string => typeof candidate === 'string' && anthropicTypes.has(candidate)) ?? 'api_error';
  return {
    type: 'error',
    error: { type: type === 'invalid_request_error' ? 'api_error' : type, message: String(error?.message ?? 'stream failed') },
  };
}
