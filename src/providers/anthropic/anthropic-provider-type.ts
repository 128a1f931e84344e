/**
 * Registers the `anthropic` provider type: ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL (default
 * https://api.anthropic.com), ANTHROPIC_MODELS and ANTHROPIC_<SUFFIX>_* instances come from providersFromEnv.
 */
import { registerProviderType } from '../provider-types.ts';
import { createAnthropicProvider, defaultAnthropicBaseUrl } from './create-anthropic-provider.ts';

registerProviderType({
  type: 'anthropic',
  label: 'Anthropic',
  defaultBaseUrl: defaultAnthropicBaseUrl,
  create(config, client) {
    return createAnthropicProvider({
      name: config.name,
      baseUrl: config.baseUrl ?? defaultAnthropicBaseUrl,
      apiKey: config.apiKey,
      ...(config.headers ? { headers: config.headers } : {}),
      models: config.models,
      client,
    });
  },
});
