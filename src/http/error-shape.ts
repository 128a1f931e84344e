/**
 * The shape an error leaves in: OpenAI's envelope by default, Anthropic's on /v1/messages, Google's on
 * the Gemini API. A route may render its own (passthrough renders in its provider's shape); errors raised
 * before a route is known (framework and socket errors, unknown paths) go by the path.
 */
import type { GatewayError } from '../core/errors.ts';
import { googleErrorBody } from '../gemini/google-errors.ts';
import { anthropicErrorBody } from '../messages/anthropic-errors.ts';

export type ErrorBodyRenderer = (error: GatewayError, params: Record<string, string>) => unknown;

export const renderOpenAIError: ErrorBodyRenderer = (error) => error.toBody();
export const renderAnthropicError: ErrorBodyRenderer = (error) => anthropicErrorBody(error);
export const renderGoogleError: ErrorBodyRenderer = (error) => googleErrorBody(error);

/** The renderer for a path (without its query string) when no route says otherwise. */
export function errorRendererForPath(path: string): ErrorBodyRenderer {
  if (path.startsWith('/v1/messages')) return renderAnthropicError;
  if (path.startsWith('/v1beta/') || path.startsWith('/v1alpha/')) return renderGoogleError;
  return renderOpenAIError;
}

/** Headers every error carries: a refused key is final (the OpenAI and Anthropic SDKs honour x-should-retry). */
export function errorHeaders(error: GatewayError): Record<string, string> {
  return error.status === 401 ? { ...error.headers, 'x-should-retry': 'false' } : error.headers;
}
