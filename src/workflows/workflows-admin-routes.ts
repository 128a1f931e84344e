/**
 * Admin API for workflows, under /admin/api/v1/workflows (master key or an admin-scoped key), with the
 * routes every versioned resource has (src/admin/versioned-admin-routes.ts): list, create or replace (a new
 * version), get, replace, delete (a version without definition), and every stored version. Versions are
 * never changed or removed, so the version that served a call stays readable as it was. A write is in
 * force on this replica at once and on the others when the change message reaches them (or within
 * WORKFLOWS_REFRESH_SECONDS).
 */
import { createVersionedAdminRoutes, documentVersionedResource } from '../admin/versioned-admin-routes.ts';
import type { Route } from '../http/types.ts';
import { type WorkflowDefinition, workflowDefinitionSchema, workflowNameSchema } from './workflow-config.ts';
import type { WorkflowsEngine } from './workflows-engine.ts';

const resource = { noun: 'Workflow', plural: 'workflows', tag: 'Admin: workflows' };
documentVersionedResource(resource, workflowDefinitionSchema);

export function createWorkflowsAdminRoutes(engine: WorkflowsEngine): Route[] {
  return createVersionedAdminRoutes<WorkflowDefinition>({
    ...resource,
    schema: workflowDefinitionSchema,
    nameSchema: workflowNameSchema,
    configured: engine.configured,
    stored: engine.stored,
    store: engine.store,
    changed: engine.announce,
  });
}
