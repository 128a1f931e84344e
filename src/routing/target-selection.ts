/**
 * The order in which a virtual model's targets are tried, by strategy:
 * - weighted: smooth weighted round robin (each target's share of calls = its weight / total weight;
 *   the sequence interleaves instead of bursting: weights 2:1 give a, b, a, a, b, a ...)
 * - priority: lowest `priority` number first (ties keep the listed order)
 * - least-latency: lowest moving-average latency first; targets never measured go first, so each is measured
 * - cost: cheapest first by the price data (input + output USD per million tokens); unpriced targets last
 * - least-busy: fewest calls in flight first (ties keep the listed order)
 * The caller takes the first target that is available (see target-health.ts).
 */
import type { Strategy, VirtualTarget } from './routing-config.ts';
import type { TargetStats } from './target-stats.ts';

export interface SelectionContext {
  stats: TargetStats;
  /** Blended price of a target (USD per million tokens), or null when unpriced. */
  priceOf(model: string): number | null;
}

export interface TargetSelector {
  order(name: string, strategy: Strategy, targets: readonly VirtualTarget[]): VirtualTarget[];
}

const byKey = <T>(items: readonly T[], key: (item: T) => number): T[] =>
  items
    .map((item, index) => ({ item, index, value: key(item) }))
    .sort((left, right) => left.value - right.value || left.index - right.index)
    .map((entry) => entry.item);

export function createTargetSelector(context: SelectionContext): TargetSelector {
  /** Current weights of the smooth weighted round robin, per virtual model and target list. */
  const rotation = new Map<string, { targets: readonly VirtualTarget[]; current: number[] }>();

  function weighted(name: string, targets: readonly VirtualTarget[]): VirtualTarget[] {
    let state = rotation.get(name);
    if (!state || state.targets !== targets) {
      state = { targets, current: targets.map(() => 0) };
      rotation.set(name, state);
    }
    const weights = targets.map((target) => target.weight ?? 1);
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    let best = 0;
    for (let index = 0; index < targets.length; index++) {
      state.current[index] = (state.current[index] ?? 0) + (weights[index] ?? 1);
      if ((state.current[index] ?? 0) > (state.current[best] ?? 0)) best = index;
    }
    state.current[best] = (state.current[best] ?? 0) - total;
    const chosen = targets[best] as VirtualTarget;
    // The rest, heaviest first, are the order to try when the chosen one is unavailable.
    return [
      chosen,
      ...byKey(
        targets.filter((target) => target !== chosen),
        (target) => -(target.weight ?? 1),
      ),
    ];
  }

  return {
    order(name, strategy, targets) {
      switch (strategy) {
        case 'weighted':
          return weighted(name, targets);
        case 'priority':
          return byKey(targets, (target) => target.priority ?? 0);
        case 'least-latency':
          return byKey(targets, (target) => context.stats.latency(target.model) ?? Number.NEGATIVE_INFINITY);
        case 'cost':
          return byKey(targets, (target) => context.priceOf(target.model) ?? Number.POSITIVE_INFINITY);
        case 'least-busy':
          return byKey(targets, (target) => context.stats.inFlight(target.model));
      }
    },
  };
}
