/**
 * The providers the Files and Batches APIs reach: configured instances whose API has OpenAI's `/files` and
 * `/batches` endpoints.
 * - OpenAI: https://platform.openai.com/docs/api-reference/files and https://platform.openai.com/docs/api-reference/batch
 * - Azure OpenAI: the same API under `{resource}/openai/files` and `/openai/batches` with `api-version`
 *   (https://learn.microsoft.com/en-us/azure/ai-services/openai/how-to/batch, GA since 2024-10-21).
 * - Groq: `/openai/v1/files` and `/openai/v1/batches` (https://console.groq.com/docs/batch).
 * Credentials travel as each provider's chat calls send them (the passthrough's rules).
 */
import type { ProviderConfig } from '../config/load-config.ts';
import { GatewayError } from '../core/errors.ts';
import { baseUrlOf, credentials } from '../passthrough/passthrough-targets.ts';
import { defaultAzureApiVersion } from '../providers/provider-types.ts';

export const fileCapableTypes = new Set(['openai', 'azure', 'groq']);

export interface FileTarget {
  /** Provider instance name. */
  name: string;
  type: string;
  /** URL of a resource under the API root: `files`, `files/{id}/content`, `batches/{id}/cancel`; `query` without `?`. */
  url(resource: string, query?: string): string;
  /** Credentials and configured extra headers. */
  headers: Record<string, string>;
}

function createTarget(config: ProviderConfig, baseUrl: string): FileTarget {
  const { injected } = credentials(config);
  if (config.type === 'azure') {
    const apiVersion = encodeURIComponent(config.apiVersion ?? defaultAzureApiVersion);
    return {
      name: config.name,
      type: config.type,
      headers: injected,
      url: (resource, query) => `${baseUrl}/openai/${resource}?api-version=${apiVersion}${query ? `&${query}` : ''}`,
    };
  }
  return {
    name: config.name,
    type: config.type,
    headers: injected,
    url: (resource, query) => `${baseUrl}/${resource}${query ? `?${query}` : ''}`,
  };
}

export interface FileTargets {
  all: FileTarget[];
  byName(name: string): FileTarget | undefined;
  /** The instance a request names (`provider`), or the only one configured; 400 otherwise. */
  pick(name: string | undefined): FileTarget;
}

export function createFileTargets(providers: ProviderConfig[]): FileTargets {
  const all: FileTarget[] = [];
  for (const provider of providers) {
    if (!fileCapableTypes.has(provider.type)) continue;
    const baseUrl = baseUrlOf(provider);
    if (baseUrl !== undefined) all.push(createTarget(provider, baseUrl));
  }
  const names = new Map(all.map((target) => [target.name, target]));
  return {
    all,
    byName: (name) => names.get(name),
    pick(name) {
      if (name !== undefined && name !== '') {
        const target = names.get(name);
        if (target) return target;
        throw new GatewayError(
          `Provider '${name}' has no files and batches API here; configured: ${all.map((entry) => entry.name).join(', ') || 'none'}`,
          { status: 400, code: 'invalid_provider', param: 'provider', retryable: false },
        );
      }
      const only = all[0];
      if (all.length === 1 && only) return only;
      throw new GatewayError(
        all.length === 0
          ? 'No configured provider has a files and batches API (OpenAI, Azure OpenAI, Groq)'
          : `Several providers have a files and batches API: name one with 'provider' (${all.map((entry) => entry.name).join(', ')})`,
        { status: 400, code: 'provider_required', param: 'provider', retryable: false },
      );
    },
  };
}
