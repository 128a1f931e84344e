/**
 * Every provider type the gateway knows, with its defaults and quirks. OpenAI-compatible types
 * share one factory; native types (Anthropic, Gemini) register their own `create`.
 */
import { ConfigError } from '../config/config-error.ts';
import type { ProviderConfig } from '../config/load-config.ts';
import { groqChatParams, mistralChatParams } from './chat-params.ts';
import { createOpenAICompatibleProvider } from './openai-compatible/create-openai-compatible-provider.ts';
import type { Provider } from './types.ts';
import type { UpstreamClient } from './upstream-client.ts';

export interface ProviderTypeDefinition {
  type: string;
  /** Shown in docs and errors. */
  label: string;
  defaultBaseUrl?: string;
  create(config: ProviderConfig, client: UpstreamClient): Provider;
}

const definitions = new Map<string, ProviderTypeDefinition>();

export function registerProviderType(definition: ProviderTypeDefinition): void {
  definitions.set(definition.type, definition);
}

export function providerTypeNames(): string[] {
  return [...definitions.keys()];
}

export function getProviderType(type: string): ProviderTypeDefinition | undefined {
  return definitions.get(type);
}

function requireBaseUrl(config: ProviderConfig, fallback: string | undefined): string {
  const baseUrl = config.baseUrl ?? fallback;
  if (!baseUrl) {
    throw new ConfigError(`${config.type.toUpperCase()}_BASE_URL`, `provider '${config.name}' needs a base URL`);
  }
  return baseUrl;
}

interface CompatibleQuirks {
  label: string;
  defaultBaseUrl?: string;
  authStyle?: 'bearer' | 'none';
  supportsStreamOptions?: boolean;
  unsupportedParams?: string[];
  acceptedChatParams?: ReadonlySet<string>;
  nativeResponses?: boolean;
  /** The upstream has no models endpoint: models come from <TYPE>_MODELS. */
  requiresModelList?: boolean;
}

function registerCompatible(type: string, quirks: CompatibleQuirks): void {
  registerProviderType({
    type,
    label: quirks.label,
    ...(quirks.defaultBaseUrl ? { defaultBaseUrl: quirks.defaultBaseUrl } : {}),
    create(config, client) {
      if (quirks.requiresModelList && (!config.models || config.models.length === 0)) {
        throw new ConfigError(`${config.type.toUpperCase()}_MODELS`, `provider '${config.name}' needs a model list`);
      }
      return createOpenAICompatibleProvider({
        name: config.name,
        type,
        baseUrl: requireBaseUrl(config, quirks.defaultBaseUrl),
        apiKey: config.apiKey,
        authStyle: config.apiKey ? (quirks.authStyle ?? 'bearer') : 'none',
        ...(config.headers ? { headers: config.headers } : {}),
        models: config.models,
        ...(quirks.supportsStreamOptions === undefined ? {} : { supportsStreamOptions: quirks.supportsStreamOptions }),
        ...(quirks.unsupportedParams ? { unsupportedParams: quirks.unsupportedParams } : {}),
        ...(quirks.acceptedChatParams ? { acceptedChatParams: quirks.acceptedChatParams } : {}),
        nativeResponses: quirks.nativeResponses ?? false,
        client,
      });
    },
  });
}

// https://platform.openai.com/docs/api-reference/chat
registerCompatible('openai', { label: 'OpenAI', defaultBaseUrl: 'https://api.openai.com/v1', nativeResponses: true });
// https://console.groq.com/docs/openai — "logprobs, logit_bias, top_logprobs" are not supported; fields it
// does not define are refused with 400.
registerCompatible('groq', {
  label: 'Groq',
  defaultBaseUrl: 'https://api.groq.com/openai/v1',
  unsupportedParams: ['logprobs', 'logit_bias', 'top_logprobs'],
  acceptedChatParams: groqChatParams,
});
// https://openrouter.ai/docs/api-reference/overview — attribution via HTTP-Referer and X-Title.
registerCompatible('openrouter', { label: 'OpenRouter', defaultBaseUrl: 'https://openrouter.ai/api/v1' });
// https://docs.x.ai/docs/api-reference — chat completions and the Responses API.
registerCompatible('xai', { label: 'xAI', defaultBaseUrl: 'https://api.x.ai/v1', nativeResponses: true });
// https://docs.z.ai/api-reference/llm/chat-completion — streams end with a chunk carrying usage.
registerCompatible('zai', { label: 'Z.ai', defaultBaseUrl: 'https://api.z.ai/api/paas/v4', supportsStreamOptions: false });
// https://github.com/ollama/ollama/blob/main/docs/openai.md — no key.
registerCompatible('ollama', { label: 'Ollama', defaultBaseUrl: 'http://localhost:11434/v1', authStyle: 'none' });
// OCI Generative AI OpenAI-compatible endpoint; it has no models listing, so ORACLE_MODELS is required.
registerCompatible('oracle', { label: 'Oracle OCI Generative AI', requiresModelList: true });
// https://api-docs.deepseek.com/api/create-chat-completion
registerCompatible('deepseek', { label: 'DeepSeek', defaultBaseUrl: 'https://api.deepseek.com/v1' });
// https://docs.mistral.ai/api/ — streams carry usage in the last chunk; the API rejects fields it does not
// define (422 extra_forbidden), among them stream_options and these OpenAI-only ones.
registerCompatible('mistral', {
  label: 'Mistral',
  defaultBaseUrl: 'https://api.mistral.ai/v1',
  supportsStreamOptions: false,
  unsupportedParams: ['user', 'logit_bias', 'logprobs', 'top_logprobs', 'store', 'metadata', 'service_tier'],
  acceptedChatParams: mistralChatParams,
});

// https://learn.microsoft.com/en-us/azure/ai-services/openai/reference — deployment URLs, api-key header.
export const defaultAzureApiVersion = '2024-10-21';
registerProviderType({
  type: 'azure',
  label: 'Azure OpenAI',
  create(config, client) {
    const baseUrl = requireBaseUrl(config, undefined).replace(/\/+$/, '').replace(/\/openai$/, '');
    const apiVersion = encodeURIComponent(config.apiVersion ?? defaultAzureApiVersion);
    return createOpenAICompatibleProvider({
      name: config.name,
      type: 'azure',
      baseUrl,
      apiKey: config.apiKey,
      authStyle: 'api-key',
      ...(config.headers ? { headers: config.headers } : {}),
      models: config.models,
      urlFor: (endpoint, model) =>
        endpoint === 'models'
          ? `${baseUrl}/openai/models?api-version=${apiVersion}`
          : `${baseUrl}/openai/deployments/${encodeURIComponent(model ?? '')}/${endpoint}?api-version=${apiVersion}`,
      client,
    });
  },
});
