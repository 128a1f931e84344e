/**
 * Metrics of upstream attempts, retries, fallbacks, circuit breakers and key pools, read from each
 * CallOutcome's attempts and, at scrape time, from the breakers and key pools of the gateway.
 * - modelgate_upstream_attempts_total{provider,model,status}
 * - modelgate_retries_total{provider,model}: attempts that repeated the previous attempt's target
 * - modelgate_fallbacks_total{from,to}: attempts that moved to another target (`provider/model`)
 * - modelgate_circuit_breaker_state{provider,model}: 0 closed, 1 half-open, 2 open
 * - modelgate_key_pool_keys{provider,state}: keys available, cooling_down or excluded
 * Provider and model labels pass `MetricLabels` (configured names only, `other` otherwise).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Gateway } from '../app.ts';
import type { CallOutcome } from '../core/outcome.ts';
import type { MetricLabels } from './metric-labels.ts';

const circuitValue = { closed: 0, 'half-open': 1, open: 2 } as const;

export function createResilienceMetrics(registry: Registry, gateway: Gateway, names: MetricLabels): (outcome: CallOutcome) => void {
  const attempts = new Counter({
    name: 'modelgate_upstream_attempts_total',
    help: 'Upstream attempts (a call may make several: retries, fallbacks) by provider, model and status',
    labelNames: ['provider', 'model', 'status'] as const,
    registers: [registry],
  });
  const retries = new Counter({
    name: 'modelgate_retries_total',
    help: 'Attempts that retried the same provider and model',
    labelNames: ['provider', 'model'] as const,
    registers: [registry],
  });
  const fallbacks = new Counter({
    name: 'modelgate_fallbacks_total',
    help: 'Attempts that fell back from one target (provider/model) to another',
    labelNames: ['from', 'to'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'modelgate_circuit_breaker_state',
    help: 'Circuit state per target: 0 closed, 1 half-open, 2 open',
    labelNames: ['provider', 'model'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const breaker of gateway.breakers?.all() ?? []) this.set({ provider: names.provider(breaker.provider), model: names.model(breaker.model) }, circuitValue[breaker.state()]);
    },
  });
  new Gauge({
    name: 'modelgate_key_pool_keys',
    help: 'Keys of each provider key pool by state (available, cooling_down, excluded)',
    labelNames: ['provider', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [provider, pool] of gateway.keyPools) {
        const counts = { available: 0, cooling_down: 0, excluded: 0 };
        for (const key of pool.status()) counts[key.state] += 1;
        for (const [state, count] of Object.entries(counts)) this.set({ provider, state }, count);
      }
    },
  });
  const attemptSeries = new Map<string, ReturnType<typeof attempts.labels>>();
  return (outcome) => {
    const list = outcome.attempts;
    for (let index = 0; index < list.length; index++) {
      const attempt = list[index] as CallOutcome['attempts'][number];
      const provider = names.provider(attempt.provider);
      const model = names.model(attempt.model);
      const status = names.status(attempt.status);
      const key = `${provider}\u0000${model}\u0000${status}`;
      let child = attemptSeries.get(key);
      if (!child) {
        child = attempts.labels({ provider, model, status });
        attemptSeries.set(key, child);
      }
      child.inc();
      if (index === 0) continue;
      const previous = list[index - 1] as CallOutcome['attempts'][number];
      if (previous.provider === attempt.provider && previous.model === attempt.model) retries.inc({ provider, model });
      else fallbacks.inc({ from: `${names.provider(previous.provider)}/${names.model(previous.model)}`, to: `${provider}/${model}` });
    }
  };
}
