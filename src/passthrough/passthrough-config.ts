/**
 * Settings of the provider passthrough (`/p/{provider}/...`), with GoModel's variable names:
 * ENABLE_PASSTHROUGH_ROUTES, ENABLED_PASSTHROUGH_PROVIDERS, ALLOW_PASSTHROUGH_V1_ALIAS.
 */
import { z } from 'zod';

export interface PassthroughConfig {
  /** ENABLE_PASSTHROUGH_ROUTES (default true). */
  enabled: boolean;
  /** ENABLED_PASSTHROUGH_PROVIDERS: provider types (or instance names) that may be reached. */
  providers: string[];
  /** ALLOW_PASSTHROUGH_V1_ALIAS (default true): `/p/x/v1/...` maps to the base URL like `/p/x/...`. */
  allowV1Alias: boolean;
}

export const defaultPassthroughProviders = ['openai', 'anthropic', 'openrouter', 'zai'];

/** The `passthrough:` section of config.yaml. */
export const passthroughYamlSchema = z
  .object({
    enabled: z.union([z.string(), z.boolean()]).optional(),
    enabled_providers: z.union([z.array(z.string()), z.string()]).optional(),
    allow_v1_alias: z.union([z.string(), z.boolean()]).optional(),
  })
  .strict()
  .optional();
