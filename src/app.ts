/** Assembles the gateway from configuration: providers, registry, outcome bus, routes, HTTP server. */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { GatewayConfig } from './config/load-config.ts';
import { createModelRegistry, type ModelRegistry } from './core/model-registry.ts';
import { createOutcomeBus, type KeyModelAccess, type KeyOwnerLookup, type OutcomeBus } from './core/outcome.ts';
import { type Authenticator, createAuthenticator } from './http/auth.ts';
import { createHttpServer } from './http/server.ts';
import type { GatewayRequest, Route } from './http/types.ts';
import { createDispatch, type Dispatch } from './pipeline/dispatch.ts';
import { createPipeline, type Pipeline } from './pipeline/pipeline.ts';
import { createResolveStage } from './pipeline/stages/resolve.ts';
import { createRouting, type Routing } from './routing/create-routing.ts';
import { createPricingTable } from './usage/pricing.ts';
import type { CircuitBreakers } from './routing/circuit-breakers.ts';
import { createSystemClock } from './routing/clock.ts';
import { createKeyPools, type KeyPool } from './routing/key-pool.ts';
import { getProviderType } from './providers/all-provider-types.ts';
import type { Provider } from './providers/types.ts';
import { createUpstreamClient, type UpstreamClient } from './providers/upstream-client.ts';
import { createChatCompletionsRoute } from './routes/chat-completions.ts';
import { createEmbeddingsRoute } from './routes/embeddings.ts';
import { createModelsRoutes } from './routes/models.ts';
import { ConfigError } from './config/config-error.ts';
import { configuredSecrets, processScrubber } from './security/secret-scrubber.ts';
import type { SharedState } from './state/shared-state.ts';
import { createRecordFailures, type RecordFailures } from './storage/record-failures.ts';
import type { Storage } from './storage/database.ts';
import type { Metric } from 'prom-client';
import type { AdminQueries } from './admin/queries.ts';
import type { BatchLineGuard } from './batches/batch-input.ts';
import type { CallPolicy } from './pipeline/call-policy.ts';
import type { WorkflowQuery } from './workflows/workflow-lookup.ts';

export interface Gateway {
  config: GatewayConfig;
  http: FastifyInstance;
  registry: ModelRegistry;
  bus: OutcomeBus;
  /** The ordered stages every model call passes through; extensions add theirs with `pipeline.use`. */
  pipeline: Pipeline;
  /** The pipeline's terminal stage (provider calls), for status pages. */
  dispatch: Dispatch;
  /** Aliases, virtual models and model access (src/routing/). */
  routing: Routing;
  providers: Provider[];
  /** Key pools of the providers configured with several keys (src/routing/key-pool.ts). */
  keyPools: ReadonlyMap<string, KeyPool>;
  /** Circuit breakers per target, when switched on (set by the resilience extension). */
  breakers?: CircuitBreakers;
  /** HTTP out, shared by every provider (one keep-alive pool per origin). */
  client: UpstreamClient;
  /** The database (usage, audit, responses), set by the storage extension when it starts. */
  storage?: Storage;
  /** Counters, windows, values and messages shared by replicas, set by the state extension when it starts. */
  state?: SharedState;
  /** Read side of the usage and audit records (this process's pending records flushed first); set by the admin extension. */
  records?: AdminQueries;
  /** Owner fields (user, team, tags) of a managed key, for usage and audit records; set by governance. */
  keyOwner?: KeyOwnerLookup;
  /** A managed key's model lists, for calls outside the pipeline (batch lines); set by governance. */
  keyModelAccess?: KeyModelAccess;
  /** Checks each line of a new batch (input guardrails with ENABLE_GUARDRAILS_FOR_BATCH_PROCESSING), set by guardrails. */
  batchLineGuard?: (request: GatewayRequest, policy: CallPolicy | null) => BatchLineGuard;
  /** The workflow policy for work outside the pipeline (batches); set by workflows. */
  workflowFor?: (query: WorkflowQuery) => Promise<CallPolicy | null>;
  /** Metrics features contribute (registered at /metrics by the metrics extension). */
  metrics: Metric[];
  /** Records that could not be built whole (modelgate_record_failures_total). */
  recordFailures: RecordFailures;
  /** Adds routes before `listen` (admin API, extra endpoints). */
  addRoutes(routes: Route[]): void;
  /**
   * Access control before `listen`: `authenticator` wraps the master-key check (managed keys), `route`
   * wraps every route when the HTTP server is created (scopes).
   */
  useAccess(access: { authenticator?: (base: Authenticator) => Authenticator; route?: (route: Route) => Route }): void;
  /** Registered shutdown steps, run in reverse order by `close`. */
  onClose(step: () => Promise<void>): void;
  listen(): Promise<string>;
  close(): Promise<void>;
}

export type GatewayExtension = (gateway: Gateway) => Promise<void> | void

export function createProviders(config: GatewayConfig, client: UpstreamClient, keyPools: ReadonlyMap<string, KeyPool> = new Map()): Provider[] {
  return config.providers.map((providerConfig) => {
    const definition = getProviderType(providerConfig.type);
    if (!definition) throw new ConfigError(`${providerConfig.name}.type`, `unknown provider type '${providerConfig.type}'`);
    return definition.create(providerConfig, keyPools.get(providerConfig.name)?.wrap(client) ?? client);
  });
}

export async function createGateway(
  config: GatewayConfig,
  logger: Logger,
  extensions: GatewayExtension[] = [],
): Promise<Gateway> {
  // Before anything can fail: every error, record and log line from here on is scrubbed of these.
  processScrubber.add(configuredSecrets(config));
  const client = createUpstreamClient(config.upstream);
  const keyPools = createKeyPools(config.providers, createSystemClock());
  const providers = createProviders(config, client, keyPools);
  const registry = createModelRegistry(providers, {
    onError: (provider, error) =>
      logger.warn({ provider, reason: processScrubber.scrub(error instanceof Error ? error.message : String(error)) }, 'could not list models'),
  });
  const recordFailures = createRecordFailures();
  const bus = createOutcomeBus((error) => {
    recordFailures.count('listener');
    logger.error({ err: error }, 'outcome listener failed');
  });
  const routes: Route[] = [];
  const closeSteps: (() => Promise<void>)[] = [];
  const dispatch = createDispatch();
  const pipeline = createPipeline(dispatch);
  pipeline.use(createResolveStage(registry));
  const routing = createRouting({ config: config.routing, registry, pipeline, pricing: createPricingTable(config.pricing), logger });
  const dependencies = { registry, bus, pipeline };
  routes.push(
    createChatCompletionsRoute(dependencies),
    createEmbeddingsRoute(dependencies),
    ...createModelsRoutes(registry, routing.catalog),
  );

  let http: FastifyInstance | undefined;
  let authenticator = createAuthenticator(config.masterKey);
  const routeWrappers: ((route: Route) => Route)[] = [];
  const gateway: Gateway = {
    config,
    get http(): FastifyInstance {
      http ??= createHttpServer({
        bodyLimitBytes: config.bodyLimitBytes,
        limits: config.httpLimits,
        authenticator,
        keyless: config.masterKey ? null : { anyHost: config.allowUnauthenticated },
        routes: routes.map((route) => routeWrappers.reduce((wrapped, wrap) => wrap(wrapped), route)),
        logger,
      });
      return http;
    },
    registry,
    bus,
    pipeline,
    dispatch,
    routing,
    providers,
    keyPools,
    client,
    metrics: [recordFailures.counter],
    recordFailures,
    addRoutes(extra) {
      if (http) throw new Error('routes must be added before the HTTP server is created');
      routes.push(...extra);
    },
    useAccess(access) {
      if (http) throw new Error('access control must be set before the HTTP server is created');
      if (access.authenticator) authenticator = access.authenticator(authenticator);
      if (access.route) routeWrappers.push(access.route);
    },
    onClose(step) {
      closeSteps.push(step);
    },
    async listen() {
      // Listening does not wait for the model lists: calls and listing endpoints wait for them instead.
      // The lists are fetched once the server is built and listening: building it blocks the event loop
      // for a while, and a list request started before would spend its timeout (UPSTREAM_TOTAL_TIMEOUT_MS)
      // waiting on it. A call arriving in between starts the fetch itself (registry.resolve).
      const address = await gateway.http.listen({ port: config.port, host: config.host });
      void registry.refresh();
      registry.start(config.modelsRefreshSeconds);
      return address;
    },
    async close() {
      registry.stop();
      if (http) await http.close();
      for (const step of closeSteps.reverse()) await step();
      await client.close();
    },
  };
  for (const extension of extensions) await extension(gateway);
  return gateway;
}
