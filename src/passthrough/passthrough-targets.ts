/**
 * The providers that `/p/{provider}/...` may reach: configured instances whose type (or name) is in
 * ENABLED_PASSTHROUGH_PROVIDERS, each with its base URL and the way its credentials are sent:
 * - OpenAI and OpenAI-compatible APIs: `Authorization: Bearer` (https://platform.openai.com/docs/api-reference/authentication)
 * - Azure OpenAI: `api-key` (https://learn.microsoft.com/en-us/azure/ai-services/openai/reference#authentication)
 * - Anthropic: `x-api-key` plus `anthropic-version` when the client sent none (https://docs.anthropic.com/en/api/versioning)
 * - Gemini: `x-goog-api-key`, never the `key` query parameter (https://ai.google.dev/api/rest#authentication)
 */
import type { ProviderConfig } from '../config/load-config.ts';
import { getProviderType } from '../providers/provider-types.ts';
import { anthropicVersion } from '../providers/anthropic/create-anthropic-provider.ts';
import type { PassthroughConfig } from './passthrough-config.ts';

export type NativeFormat = 'openai' | 'anthropic' | 'gemini';

export interface PassthroughTarget {
  name: string;
  type: string;
  baseUrl: string;
  /** The wire format of the provider's own API, for reading usage and shaping gateway errors. */
  format: NativeFormat;
  /** Headers the gateway sets (credentials, configured extra headers); they replace the client's. */
  injected: Record<string, string>;
  /** Headers set only when the client did not send them. */
  defaults: Record<string, string>;
  /** Query parameters removed from the client's query (credentials in the URL). */
  strippedQuery: string[];
}

function formatOf(type: string): NativeFormat {
  if (type === 'anthropic') return 'anthropic';
  if (type === 'gemini') return 'gemini';
  return 'openai';
}

export function baseUrlOf(config: ProviderConfig): string | undefined {
  const baseUrl = config.baseUrl ?? getProviderType(config.type)?.defaultBaseUrl;
  if (baseUrl === undefined) return undefined;
  const trimmed = baseUrl.replace(/\/+$/, '');
  // Azure's base URL is the resource; the gateway's Azure provider accepts it with or without /openai.
  return config.type === 'azure' ? trimmed.replace(/\/openai$/, '') : trimmed;
}

export function credentials(config: ProviderConfig): Pick<PassthroughTarget, 'injected' | 'defaults' | 'strippedQuery'> {
  const injected: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.headers ?? {})) injected[name.toLowerCase()] = value;
  const defaults: Record<string, string> = {};
  const strippedQuery: string[] = [];
  const key = config.apiKey;
  if (config.type === 'anthropic') {
    if (key) injected['x-api-key'] = key;
    defaults['anthropic-version'] = anthropicVersion;
  } else if (config.type === 'gemini') {
    if (key) injected['x-goog-api-key'] = key;
    strippedQuery.push('key');
  } else if (config.type === 'azure') {
    if (key) injected['api-key'] = key;
  } else if (key && config.type !== 'ollama') {
    injected.authorization = `Bearer ${key}`;
  }
  return { injected, defaults, strippedQuery };
}

/** Targets by instance name; an instance is reachable when its type or its name is enabled. */
export function createPassthroughTargets(providers: ProviderConfig[], config: PassthroughConfig): Map<string, PassthroughTarget> {
  const enabled = new Set(config.providers.map((entry) => entry.toLowerCase()));
  const targets = new Map<string, PassthroughTarget>();
  for (const provider of providers) {
    if (!enabled.has(provider.type) && !enabled.has(provider.name)) continue;
    const baseUrl = baseUrlOf(provider);
    if (baseUrl === undefined) continue;
    targets.set(provider.name, { name: provider.name, type: provider.type, baseUrl, format: formatOf(provider.type), ...credentials(provider) });
  }
  return targets;
}
