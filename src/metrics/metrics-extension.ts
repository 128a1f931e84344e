/**
 * Prometheus metrics at GET /metrics (master key required when one is set), fed by CallOutcomes.
 * Labels come only from configured names (src/metrics/metric-labels.ts), so series are bounded; the
 * text passes the secret scrubber as a last line.
 */
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { GatewayExtension } from '../app.ts';
import type { CallOutcome } from '../core/outcome.ts';
import { processScrubber } from '../security/secret-scrubber.ts';
import { createMetricLabels } from './metric-labels.ts';
import { createResilienceMetrics } from './resilience-metrics.ts';

type TokenKind = 'input' | 'output' | 'cached' | 'reasoning' | 'cache_write';

export function createMetricsExtension(): GatewayExtension {
  return (gateway) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'modelgate_process_' });
    const labels = ['endpoint', 'provider', 'model', 'status'] as const;
    const requests = new Counter({
      name: 'modelgate_requests_total',
      help: 'Model calls by endpoint, provider, model and HTTP status',
      labelNames: labels,
      registers: [registry],
    });
    const latency = new Histogram({
      name: 'modelgate_request_duration_seconds',
      help: 'Model call latency, from request arrival to the last byte',
      labelNames: ['endpoint', 'provider', 'model', 'stream'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    });
    const firstByte = new Histogram({
      name: 'modelgate_stream_first_byte_seconds',
      help: 'Time to the first streamed byte',
      labelNames: ['endpoint', 'provider', 'model'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    const tokens = new Counter({
      name: 'modelgate_tokens_total',
      help: 'Tokens by provider, model and kind (input, output, cached, reasoning, cache_write)',
      labelNames: ['provider', 'model', 'kind'] as const,
      registers: [registry],
    });
    // Label sets repeat (a few models per provider): keep each one's children instead of hashing labels per call.
    interface CallSeries {
      requests: ReturnType<typeof requests.labels>;
      latency: ReturnType<typeof latency.labels>;
      firstByte: ReturnType<typeof firstByte.labels>;
      /** The token counter's child for one kind, made at its first use. */
      tokens(kind: TokenKind): ReturnType<typeof tokens.labels>;
    }
    const series = new Map<string, CallSeries>();
    const tokenSeries = (provider: string, model: string) => {
      const children = new Map<TokenKind, ReturnType<typeof tokens.labels>>();
      return (kind: TokenKind) => {
        let child = children.get(kind);
        if (!child) {
          child = tokens.labels({ provider, model, kind });
          children.set(kind, child);
        }
        return child;
      };
    };
    const seriesFor = (endpoint: string, provider: string, model: string, status: string, stream: string): CallSeries => {
      const key = `${endpoint}\u0000${provider}\u0000${model}\u0000${status}\u0000${stream}`;
      let found = series.get(key);
      if (!found) {
        found = {
          requests: requests.labels({ endpoint, provider, model, status }),
          latency: latency.labels({ endpoint, provider, model, stream }),
          firstByte: firstByte.labels({ endpoint, provider, model }),
          tokens: tokenSeries(provider, model),
        };
        series.set(key, found);
      }
      return found;
    };
    for (const metric of gateway.metrics) registry.registerMetric(metric);
    const names = createMetricLabels(gateway);
    const recordAttempts = createResilienceMetrics(registry, gateway, names);
    gateway.bus.subscribe((outcome: CallOutcome) => {
      recordAttempts(outcome);
      const provider = names.provider(outcome.provider);
      const model = names.model(outcome.model ?? outcome.requestedModel);
      const call = seriesFor(outcome.endpoint, provider, model, names.status(outcome.status), String(outcome.stream));
      call.requests.inc();
      call.latency.observe(outcome.latencyMs / 1000);
      if (outcome.firstByteMs !== null) call.firstByte.observe(outcome.firstByteMs / 1000);
      const usage = outcome.usage;
      if (usage) {
        if (usage.inputTokens) call.tokens('input').inc(usage.inputTokens);
        if (usage.outputTokens) call.tokens('output').inc(usage.outputTokens);
        if (usage.cachedTokens) call.tokens('cached').inc(usage.cachedTokens);
        if (usage.reasoningTokens) call.tokens('reasoning').inc(usage.reasoningTokens);
        if (usage.cacheWriteTokens) call.tokens('cache_write').inc(usage.cacheWriteTokens);
      }
    });
    gateway.addRoutes([
      {
        method: 'GET',
        path: '/metrics',
        authenticated: true,
        handler: async () => ({
          kind: 'text',
          status: 200,
          contentType: registry.contentType,
          body: processScrubber.scrub(await registry.metrics()),
        }),
      },
    ]);
  };
}
