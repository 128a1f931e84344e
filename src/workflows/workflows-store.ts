/**
 * Workflows stored through the admin API, in the table `workflow_versions` (src/storage/versioned-store.ts):
 * append-only, so every version that ever served a call stays readable exactly as it was; an edit is a new
 * version, a delete a version without definition.
 */
import type { Kysely } from 'kysely';
import { registerMigration } from '../storage/database.ts';
import { createVersionedStore, type StoredVersion, type VersionedStore, versionedTableMigration } from '../storage/versioned-store.ts';
import { type WorkflowDefinition, workflowDefinitionSchema } from './workflow-config.ts';

export type StoredWorkflow = StoredVersion<WorkflowDefinition>;
export type WorkflowsStore = VersionedStore<WorkflowDefinition>;

registerMigration({ name: '20261202-41-workflows', up: versionedTableMigration('workflow_versions') });

export function createWorkflowsStore(database: Kysely<unknown>): WorkflowsStore {
  return createVersionedStore(database, 'workflow_versions', (value) => {
    const parsed = workflowDefinitionSchema.safeParse(value);
    return parsed.success ? parsed.data : null;
  });
}
