/** Features that plug into the gateway at start (storage, usage, audit, admin API). */
import type { Logger } from 'pino';
import { createRecordsExtensions } from './admin/records-extension.ts';
import { createCacheExtension } from './cache/cache-extension.ts';
import { createDashboardExtension } from './dashboard/dashboard-extension.ts';
import type { GatewayExtension } from './app.ts';
import { createBatchesExtension } from './batches/batches-extension.ts';
import { createFilesExtension } from './files/files-extension.ts';
import { createGeminiExtension } from './gemini/gemini-extension.ts';
import { createGuardrailsExtension } from './guardrails/guardrails-extension.ts';
import { createGovernanceExtension } from './governance/governance-extension.ts';
import { createMetricsExtension } from './metrics/metrics-extension.ts';
import { createMessagesExtension } from './messages/messages-extension.ts';
import { createPassthroughExtension } from './passthrough/passthrough-extension.ts';
import { createResponsesExtension } from './responses/responses-extension.ts';
import { createResilienceExtension, type ResilienceExtensionOptions } from './routing/resilience-extension.ts';
import { createRoutingExtension } from './routing/routing-extension.ts';
import { createStateExtension } from './state/state-extension.ts';
import { createWorkflowsExtension } from './workflows/workflows-extension.ts';

export function defaultExtensions(logger: Logger, options: { resilience?: ResilienceExtensionOptions } = {}): GatewayExtension[] {
  return [
    createStateExtension(logger),
    ...createRecordsExtensions(logger),
    createGovernanceExtension(logger),
    createWorkflowsExtension(logger),
    createGuardrailsExtension(logger),
    createRoutingExtension(),
    createResilienceExtension(logger, options.resilience),
    createCacheExtension(logger),
    createMetricsExtension(),
    createResponsesExtension(logger),
    createMessagesExtension(),
    createGeminiExtension(),
    createPassthroughExtension(),
    createFilesExtension(),
    createBatchesExtension(logger),
    createDashboardExtension(),
  ];
}
