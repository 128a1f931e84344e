/**
 * Errors in Google's shape, for the Gemini API inbound and passthrough to Gemini:
 * {"error":{"code": <HTTP status>, "message", "status": <canonical code name>}}
 * (https://ai.google.dev/gemini-api/docs/troubleshooting#error-codes, https://cloud.google.com/apis/design/errors#http_mapping).
 */
import type { GatewayError } from '../core/errors.ts';

export interface GoogleErrorBody {
  error: { code: number; message: string; status: string };
}

export function googleStatus(status: number): string {
  if (status === 400 || status === 413 || status === 422) return 'INVALID_ARGUMENT';
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'PERMISSION_DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'ABORTED';
  if (status === 429) return 'RESOURCE_EXHAUSTED';
  if (status === 499) return 'CANCELLED';
  if (status === 501) return 'UNIMPLEMENTED';
  if (status === 502 || status === 503) return 'UNAVAILABLE';
  if (status === 504) return 'DEADLINE_EXCEEDED';
  if (status >= 400 && status < 500) return 'FAILED_PRECONDITION';
  return 'INTERNAL';
}

export function googleErrorBody(error: GatewayError): GoogleErrorBody {
  return { error: { code: error.status, message: error.message, status: googleStatus(error.status) } };
}

const statusForType: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  rate_limit_error: 429,
  timeout_error: 504,
};

/** A failure in the middle of a stream, from the gateway's OpenAI-shaped body, in Google's shape. */
export function googleStreamErrorBody(body: unknown): GoogleErrorBody {
  const error = (body !== null && typeof body === 'object' ? (body as { error?: unknown }).error : undefined) as
    | { type?: unknown; message?: unknown }
    | undefined;
  const code = (typeof error?.type === 'string' ? statusForType[error.type] : undefined) ?? 502;
  return { error: { code, message: String(error?.message ?? 'stream failed'), status: googleStatus(code) } };
}
