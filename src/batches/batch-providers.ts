/** The batch adapter of each configured provider: native where the provider has a files API, else translated. */
import type { ProviderConfig } from '../config/load-config.ts';
import { GatewayError } from '../core/errors.ts';
import type { FileTargets } from '../files/file-targets.ts';
import type { UpstreamClient } from '../providers/upstream-client.ts';
import { createAnthropicBatches } from './anthropic-batches.ts';
import type { BatchProvider, BatchProviders } from './batch-provider.ts';
import { createGeminiBatches } from './gemini-batches.ts';
import { createNativeBatches } from './native-batches.ts';

export interface BatchProvidersOptions {
  providers: ProviderConfig[];
  fileTargets: FileTargets;
  client: UpstreamClient;
  spoolDir: string;
}

export function createBatchProviders(options: BatchProvidersOptions): BatchProviders {
  const all: BatchProvider[] = [];
  for (const config of options.providers) {
    const native = options.fileTargets.byName(config.name);
    if (native) all.push(createNativeBatches(native, options.client));
    else if (config.type === 'anthropic') all.push(createAnthropicBatches(config, options.client, options.spoolDir));
    else if (config.type === 'gemini') all.push(createGeminiBatches(config, options.client, options.spoolDir));
  }
  const names = new Map(all.map((provider) => [provider.name, provider]));
  const list = () => all.map((entry) => entry.name).join(', ') || 'none';
  return {
    all,
    byName: (name) => names.get(name),
    pick(name) {
      if (name !== undefined && name !== '') {
        const found = names.get(name);
        if (found) return found;
        throw new GatewayError(`Provider '${name}' has no batch API here; configured: ${list()}`, {
          status: 400,
          code: 'invalid_provider',
          param: 'provider',
          retryable: false,
        });
      }
      const only = all[0];
      if (all.length === 1 && only) return only;
      throw new GatewayError(
        all.length === 0
          ? 'No configured provider has a batch API (OpenAI, Azure OpenAI, Groq, Anthropic, Gemini)'
          : `Several providers have a batch API: name one with 'provider' or a 'provider/model' (${list()})`,
        { status: 400, code: 'provider_required', param: 'provider', retryable: false },
      );
    },
  };
}
