/**
 * Cost of a call in USD from the pricing table shipped in pricing-data.json (sources and dates inside),
 * overridable per model in config.yaml (`pricing:`). A model without a price is unpriced: its cost is
 * null, never $0.
 *
 * Token convention (the OpenAI one, which `Usage` follows): `inputTokens` includes the tokens read from
 * and written to the prompt cache, `outputTokens` includes reasoning tokens.
 */
import type { PriceOverride } from '../config/load-config.ts';
import type { Usage } from '../core/usage.ts';
// Imported, not read from disk, so that the production bundle (scripts/build.ts) carries it inside.
import pricingData from './pricing-data.json' with { type: 'json' };

/** USD per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
  cachedInput?: number;
  cacheWrite?: number;
}

export interface PricingTable {
  /** The price of a model, or null when unpriced. */
  priceOf(model: string | null, provider?: string | null): ModelPrice | null;
  /** Cost in USD, or null when the model has no price. */
  costOf(usage: Usage | null, model: string | null, provider?: string | null): number | null;
  asOf: string;
}

interface PricingFile {
  as_of: string;
  models: Record<string, { input: number; output: number; cached_input?: number; cache_write?: number }>;
}

export function loadShippedPrices(): { asOf: string; prices: Map<string, ModelPrice> } {
  const file = pricingData as PricingFile;
  const prices = new Map<string, ModelPrice>();
  for (const [model, entry] of Object.entries(file.models)) {
    const price: ModelPrice = { input: entry.input, output: entry.output };
    if (entry.cached_input !== undefined) price.cachedInput = entry.cached_input;
    if (entry.cache_write !== undefined) price.cacheWrite = entry.cache_write;
    prices.set(model, price);
  }
  return { asOf: file.as_of, prices };
}

/** Names to try for a model id: as given, without a `vendor/` prefix, without a date or `-latest` suffix. */
export function candidateNames(model: string): string[] {
  const names = [model];
  const bare = model.includes('/') ? model.slice(model.lastIndexOf('/') + 1) : model;
  if (bare !== model) names.push(bare);
  for (const name of [...names]) {
    const undated = name
      .replace(/-\d{4}-\d{2}-\d{2}$/, '')
      .replace(/-\d{8}$/, '')
      .replace(/@\d{8}$/, '')
      .replace(/-latest$/, '');
    if (undated !== name) names.push(undated);
  }
  return [...new Set(names)];
}

function applyOverride(base: ModelPrice | undefined, override: PriceOverride): ModelPrice | null {
  const input = override.input ?? base?.input;
  const output = override.output ?? base?.output;
  if (input === undefined || output === undefined) return null;
  const price: ModelPrice = { input, output };
  const cachedInput = override.cachedInput ?? base?.cachedInput;
  const cacheWrite = override.cacheWrite ?? base?.cacheWrite;
  if (cachedInput !== undefined) price.cachedInput = cachedInput;
  if (cacheWrite !== undefined) price.cacheWrite = cacheWrite;
  return price;
}

export function computeCost(usage: Usage, price: ModelPrice): number {
  const cached = Math.max(0, usage.cachedTokens);
  const cacheWrite = Math.max(0, usage.cacheWriteTokens);
  const uncached = Math.max(0, usage.inputTokens - cached - cacheWrite);
  const micro =
    uncached * price.input +
    cached * (price.cachedInput ?? price.input) +
    cacheWrite * (price.cacheWrite ?? price.input) +
    Math.max(0, usage.outputTokens) * price.output;
  return micro / 1_000_000;
}

export function createPricingTable(overrides: Record<string, PriceOverride> = {}): PricingTable {
  const shipped = loadShippedPrices();
  const cache = new Map<string, ModelPrice | null>();
  function lookup(model: string, provider: string | null): ModelPrice | null {
    const names = candidateNames(model);
    const keys = provider ? [...names.map((name) => `${provider}/${name}`), ...names] : names;
    for (const key of keys) {
      const override = overrides[key];
      if (override) {
        const base = names.map((name) => shipped.prices.get(name)).find((price) => price !== undefined);
        return applyOverride(base, override);
      }
    }
    for (const name of names) {
      const price = shipped.prices.get(name);
      if (price) return price;
    }
    return null;
  }
  const table: PricingTable = {
    asOf: shipped.asOf,
    priceOf(model, provider = null) {
      if (!model) return null;
      const key = `${provider ?? ''}\u0000${model}`;
      if (!cache.has(key)) cache.set(key, lookup(model, provider));
      return cache.get(key) ?? null;
    },
    costOf(usage, model, provider = null) {
      const price = table.priceOf(model, provider);
      if (!price) return null;
      if (!usage) return 0;
      return computeCost(usage, price);
    },
  };
  return table;
}
