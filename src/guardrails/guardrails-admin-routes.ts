/**
 * Admin API for guardrails, under /admin/api/v1/guardrails (master key or an admin-scoped key), with the
 * routes every versioned resource has (src/admin/versioned-admin-routes.ts): list, create or replace (a new
 * version), get, replace, delete (a version without definition), and every stored version.
 * Stored in the database, versioned; a write is in force on this replica at once and on the others when the
 * change message reaches them (or within GUARDRAILS_REFRESH_SECONDS).
 * A stored guardrail replaces a configured one of the same name; deleting it brings the configured one
 * back. Webhook header values are write-only: they are shown as "[redacted]".
 */
import { createVersionedAdminRoutes, documentVersionedResource } from '../admin/versioned-admin-routes.ts';
import type { Route } from '../http/types.ts';
import { type GuardrailDefinition, guardrailDefinitionSchema, guardrailNameSchema, phaseProblem } from './guardrails-config.ts';
import type { GuardrailsEngine } from './guardrails-engine.ts';

const resource = { noun: 'Guardrail', plural: 'guardrails', tag: 'Admin: guardrails' };
documentVersionedResource(resource, guardrailDefinitionSchema);

/** A definition as the admin API shows it: webhook header values hidden. */
function shown(definition: GuardrailDefinition): GuardrailDefinition {
  if (definition.type !== 'webhook') return definition;
  return { ...definition, headers: Object.fromEntries(Object.keys(definition.headers).map((key) => [key, '[redacted]'])) };
}

export function createGuardrailsAdminRoutes(engine: GuardrailsEngine): Route[] {
  return createVersionedAdminRoutes<GuardrailDefinition>({
    ...resource,
    schema: guardrailDefinitionSchema,
    nameSchema: guardrailNameSchema,
    check(definition) {
      const problem = phaseProblem(definition);
      return problem ? { param: 'phase', message: problem } : null;
    },
    show: shown,
    configured: engine.configured,
    stored: engine.stored,
    store: engine.store,
    changed: engine.announce,
  });
}
