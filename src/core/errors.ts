/**
 * One error type for the whole gateway. Every error that reaches a client is rendered as the
 * OpenAI error envelope: {"error":{"message","type","code","param"}}. Messages and codes pass the
 * secret scrubber when the error is made (an upstream that echoes its key does not reach the client).
 */
import { processScrubber } from '../security/secret-scrubber.ts';

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'api_error'
  | 'upstream_error'
  | 'timeout_error'
  | 'server_error';

export interface GatewayErrorOptions {
  status: number;
  code: string;
  type?: ErrorType | string | undefined;
  param?: string | null;
  retryable?: boolean;
  cause?: unknown;
  /** Headers to send with the error response (for example Retry-After from upstream). */
  headers?: Record<string, string>;
  provider?: string;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly code: string;
  readonly type: string;
  readonly param: string | null;
  readonly retryable: boolean;
  readonly headers: Record<string, string>;
  readonly provider: string | undefined;

  constructor(message: string, options: GatewayErrorOptions) {
    super(processScrubber.scrub(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.status = options.status;
    this.code = processScrubber.scrub(options.code);
    this.type = options.type ?? defaultTypeForStatus(options.status);
    this.param = options.param ? processScrubber.scrub(options.param) : (options.param ?? null);
    this.retryable = options.retryable ?? (options.status === 429 || options.status >= 500);
    this.headers = options.headers ?? {};
    this.provider = options.provider;
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, code: this.code, param: this.param } };
  }
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}

export function defaultTypeForStatus(status: number): ErrorType {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 504) return 'timeout_error';
  if (status === 502 || status === 503) return 'upstream_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export function invalidRequest(message: string, param: string | null = null, code = 'invalid_request'): GatewayError {
  return new GatewayError(message, { status: 400, code, param, retryable: false });
}

/** Turns anything thrown into a GatewayError without leaking internals to the client. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError('Internal gateway error', { status: 500, code: 'internal_error', cause: error });
}
