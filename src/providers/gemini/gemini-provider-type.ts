/** Registers the `gemini` provider type: GEMINI_API_KEY, GEMINI_BASE_URL, GEMINI_MODELS. */
import { registerProviderType } from '../provider-types.ts';
import { createGeminiProvider, defaultGeminiBaseUrl } from './create-gemini-provider.ts';

registerProviderType({
  type: 'gemini',
  label: 'Google Gemini',
  defaultBaseUrl: defaultGeminiBaseUrl,
  create(config, client) {
    return createGeminiProvider({
      name: config.name,
      baseUrl: config.baseUrl ?? defaultGeminiBaseUrl,
      apiKey: config.apiKey,
      ...(config.headers ? { headers: config.headers } : {}),
      models: config.models,
      client,
    });
  },
});
