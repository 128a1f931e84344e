/**
 * Client headers that select Anthropic API features: `anthropic-beta` (comma-separated betas such as
 * context-management-2025-06-27 or advanced-tool-use-2025-11-20, https://docs.anthropic.com/en/api/beta-headers)
 * and any other `anthropic-*` request header, except `anthropic-version` (the gateway sets its own) and the
 * browser-CORS opt-in `anthropic-dangerous-direct-browser-access`. Forwarded to Anthropic upstreams;
 * reported as dropped for other targets.
 */
import type { CallContext } from '../types.ts';

const notForwarded = new Set(['anthropic-version', 'anthropic-dangerous-direct-browser-access']);

/** The feature-selecting headers of a call, or null when it has none. */
export function anthropicFeatureHeaders(headers: CallContext['clientHeaders']): Record<string, string> | null {
  if (!headers) return null;
  let found: Record<string, string> | null = null;
  for (const name in headers) {
    if (!name.startsWith('anthropic-') || notForwarded.has(name)) continue;
    const value = headers[name];
    if (value === undefined) continue;
    found ??= {};
    found[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return found;
}
