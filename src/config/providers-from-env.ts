/**
 * Providers declared through environment variables: <TYPE>_API_KEY / <TYPE>_BASE_URL / <TYPE>_MODELS for each
 * built-in type, named instances such as OPENAI_VLLM_API_KEY, and OpenRouter's attribution headers.
 */
import { providerTypeNames } from '../providers/all-provider-types.ts';
import type { WeightedKey } from '../routing/resilience-config.ts';
import { type Env, parseList, pick } from './config-values.ts';

export interface ProviderConfig {
  name: string;
  type: string;
  apiKey?: string;
  /** Key pool (`OPENAI_API_KEY=k1,k2`, `api_keys:`), when there are several keys; `apiKey` is then the first. */
  apiKeys?: WeightedKey[];
  baseUrl?: string;
  models?: string[];
  apiVersion?: string;
  headers?: Record<string, string>;
}

const builtInBaseUrlEnv = (type: string) => `${type.toUpperCase()}_BASE_URL`;

/** Providers declared through environment variables. */
export function providersFromEnv(env: Env): ProviderConfig[] {
  const providers = new Map<string, ProviderConfig>();
  const types = providerTypeNames();
  const ensure = (name: string, type: string): ProviderConfig => {
    let provider = providers.get(name);
    if (!provider) {
      provider = { name, type };
      providers.set(name, provider);
    }
    return provider;
  };
  for (const type of types) {
    const upper = type.toUpperCase();
    const apiKey = pick(env[`${upper}_API_KEY`], type === 'azure' ? env.AZURE_OPENAI_API_KEY : undefined);
    const baseUrl = pick(env[builtInBaseUrlEnv(type)], type === 'azure' ? env.AZURE_OPENAI_ENDPOINT : undefined);
    const keyless = type === 'ollama';
    if (apiKey === undefined && !(keyless && baseUrl !== undefined)) continue;
    const provider = ensure(type, type);
    if (apiKey !== undefined) provider.apiKey = apiKey;
    if (baseUrl !== undefined) provider.baseUrl = baseUrl;
    const models = env[`${upper}_MODELS`];
    if (models) provider.models = parseList(models);
    const apiVersion = env[`${upper}_API_VERSION`];
    if (apiVersion) provider.apiVersion = apiVersion;
  }
  // Named instances: <TYPE>_<SUFFIX>_API_KEY (or _BASE_URL for keyless types), e.g. OPENAI_VLLM_API_KEY.
  const typePattern = types.map((type) => type.toUpperCase()).join('|');
  const named = new RegExp(`^(${typePattern})_([A-Z0-9]+(?:_[A-Z0-9]+)*?)_(API_KEY|BASE_URL)$`);
  for (const [variable, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue;
    const match = named.exec(variable);
    if (!match) continue;
    const [, upperType = '', suffix = '', field] = match;
    const type = upperType.toLowerCase();
    if (suffix === 'OPENAI' && type === 'azure') continue; // AZURE_OPENAI_API_KEY is Azure's own alias
    if (field === 'BASE_URL' && type !== 'ollama' && env[`${upperType}_${suffix}_API_KEY`] === undefined) continue;
    const name = `${type}-${suffix.toLowerCase().replaceAll('_', '-')}`;
    const provider = ensure(name, type);
    const prefix = `${upperType}_${suffix}`;
    const apiKey = env[`${prefix}_API_KEY`];
    if (apiKey) provider.apiKey = apiKey;
    const baseUrl = env[`${prefix}_BASE_URL`];
    if (baseUrl) provider.baseUrl = baseUrl;
    const models = env[`${prefix}_MODELS`];
    if (models) provider.models = parseList(models);
    const apiVersion = env[`${prefix}_API_VERSION`];
    if (apiVersion) provider.apiVersion = apiVersion;
  }
  const openrouter = providers.get('openrouter');
  if (openrouter) {
    const headers: Record<string, string> = {};
    const referer = pick(env.OPENROUTER_SITE_URL, env.OPENROUTER_HTTP_REFERER);
    const title = pick(env.OPENROUTER_APP_NAME, env.OPENROUTER_X_TITLE);
    if (referer) headers['HTTP-Referer'] = referer;
    if (title) headers['X-Title'] = title;
    if (Object.keys(headers).length > 0) openrouter.headers = headers;
  }
  return [...providers.values()];
}
