/**
 * Metric label values come only from configured names, so the number of series is bounded whatever
 * clients send: a provider label is a configured provider's name, a model label a model some provider
 * lists or an alias or virtual model of the routing catalog; anything else is `other`. Statuses are
 * HTTP statuses (100-599) or `other`. Client text (a key pasted as the model, random names) can thus
 * never become a label.
 */
import type { Gateway } from '../app.ts';

export const otherLabel = 'other';
/** Absent (a call that failed before a provider or model was known). */
export const noneLabel = 'none';
/** Upper bound of distinct model labels, even if providers list more models than this. */
const maxModelLabels = 2000;
/** How long the set of known names is kept before it is rebuilt from the registry and the catalog. */
const knownNamesTtlMs = 10_000;

export interface MetricLabels {
  provider(name: string | null): string;
  model(name: string | null): string;
  status(status: number): string;
}

export function createMetricLabels(gateway: Pick<Gateway, 'providers' | 'registry' | 'routing'>): MetricLabels {
  const providers = new Set(gateway.providers.map((provider) => provider.name));
  let known = new Set<string>();
  let builtAt = Number.NEGATIVE_INFINITY;
  let builtFrom = -1;
  const used = new Set<string>();

  function knownModels(): Set<string> {
    const now = performance.now();
    if (now - builtAt < knownNamesTtlMs && builtFrom === gateway.registry.version) return known;
    const names = new Set<string>();
    for (const entry of gateway.registry.list()) {
      names.add(entry.id);
      names.add(`${entry.provider}/${entry.id}`);
    }
    for (const alias of gateway.routing.catalog.aliases()) names.add(alias.name);
    for (const virtual of gateway.routing.catalog.virtualModels()) names.add(virtual.name);
    known = names;
    builtAt = now;
    builtFrom = gateway.registry.version;
    return known;
  }

  return {
    provider: (name) => (name === null ? noneLabel : providers.has(name) ? name : otherLabel),
    model(name) {
      if (name === null) return noneLabel;
      if (used.has(name)) return name;
      if (!knownModels().has(name) || used.size >= maxModelLabels) return otherLabel;
      used.add(name);
      return name;
    },
    status: (status) => (Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : otherLabel),
  };
}

/**
 * Labels for names an operator defines (guardrails, workflows: config.yaml or the admin API, never client
 * text): each name is its own label until `max` distinct names were seen, later ones are `other`.
 */
export function createBoundedNameLabels(max: number): (name: string) => string {
  const used = new Set<string>();
  return (name) => {
    if (used.has(name)) return name;
    if (used.size >= max) return otherLabel;
    used.add(name);
    return name;
  };
}
