/** Loads every provider type so that it registers itself. Import provider types from here. */
export { getProviderType, providerTypeNames, registerProviderType } from './provider-types.ts';
import './anthropic/anthropic-provider-type.ts';
import './gemini/gemini-provider-type.ts';
