/** Loads every provider type so that it registers itself. Import provider types from here. */
export { getProviderType, providerTypeNames, registerProviderType } from './provider-types.ts';
