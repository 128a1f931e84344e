/**
 * Guardrails stored through the admin API, versioned (src/storage/versioned-store.ts): every write
 * (create, replace, delete) adds a row `(name, version, definition)` to `guardrail_versions` (a delete
 * has no definition), so the history of each guardrail stays readable and the current set is the latest
 * version of each name. Every replica sharing the database reloads it every GUARDRAILS_REFRESH_SECONDS.
 */
import type { Kysely } from 'kysely';
import { registerMigration } from '../storage/database.ts';
import { createVersionedStore, type StoredVersion, type VersionedStore, versionedTableMigration } from '../storage/versioned-store.ts';
import { type GuardrailDefinition, guardrailDefinitionSchema } from './guardrails-config.ts';

export type StoredGuardrail = StoredVersion<GuardrailDefinition>;
export type GuardrailsStore = VersionedStore<GuardrailDefinition>;

registerMigration({ name: '20261202-21-guardrails', up: versionedTableMigration('guardrail_versions') });

export function createKyselyGuardrailsStore(database: Kysely<unknown>): GuardrailsStore {
  return createVersionedStore(database, 'guardrail_versions', (value) => {
    const parsed = guardrailDefinitionSchema.safeParse(value);
    return parsed.success ? parsed.data : null;
  });
}
