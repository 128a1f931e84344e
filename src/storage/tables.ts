/** Row types and migrations of the core tables: usage records and the audit log. */
import type { Kysely } from 'kysely';
import type { KeyOwner } from '../core/outcome.ts';
import type { StorageDialect, StorageMigration } from './database.ts';

/** One row per model call. Numbers may come back as strings from PostgreSQL (bigint): use Number(). */
export interface UsageTable {
  id: string;
  request_id: string;
  /** Epoch milliseconds. */
  created_at: number;
  /** UTC calendar day, YYYY-MM-DD. */
  day: string;
  endpoint: string;
  provider: string | null;
  provider_type: string | null;
  model: string | null;
  requested_model: string | null;
  stream: number;
  status: number;
  error_code: string | null;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  cache_write_tokens: number;
  /** USD; null when the model has no price (then priced = 0). */
  cost_usd: number | null;
  priced: number;
  key_id: string | null;
  /** Owner fields of the managed key (null for the master key); tags as a JSON array. */
  key_user: string | null;
  key_team: string | null;
  key_tags: string | null;
  latency_ms: number;
  first_byte_ms: number | null;
  cache_status: string;
  /** USD a cache hit saved (what the call would have cost); null otherwise. */
  saved_cost_usd: number | null;
}

export interface AuditLogTable {
  id: string;
  request_id: string;
  created_at: number;
  day: string;
  method: string;
  path: string;
  endpoint: string;
  provider: string | null;
  provider_type: string | null;
  model: string | null;
  requested_model: string | null;
  stream: number;
  status: number;
  error_code: string | null;
  error_message: string | null;
  latency_ms: number;
  first_byte_ms: number | null;
  key_id: string | null;
  /** Owner fields of the managed key (null for the master key); tags as a JSON array. */
  key_user: string | null;
  key_team: string | null;
  key_tags: string | null;
  dropped_params: string | null;
  /** Redacted JSON text, present when LOGGING_LOG_HEADERS is on. */
  request_headers: string | null;
  response_headers: string | null;
  /** JSON text capped at LOGGING_MAX_BODY_BYTES, present when LOGGING_LOG_BODIES is on. */
  request_body: string | null;
  response_body: string | null;
  body_truncated: number;
  /** Groups the calls of one conversation (hash of its opening messages). */
  thread_key: string | null;
  /** Responses API: this call's response id and the `previous_response_id` it continued (bodies logged). */
  response_id: string | null;
  previous_response_id: string | null;
  /** JSON array of the call's upstream attempts (provider, model, operation, status, error, latency_ms). */
  attempts: string | null;
  /** JSON array of guardrail decisions (name, type, phase, action, reason); null when none acted. */
  guardrails: string | null;
  /** Version of the guardrails and workflow applied (null when guardrails are off). */
  policy_version: string | null;
}

/** The owner columns of a record (all null for the master key or no key). */
export function ownerColumns(owner: KeyOwner | undefined): { key_user: string | null; key_team: string | null; key_tags: string | null } {
  if (!owner) return { key_user: null, key_team: null, key_tags: null };
  return { key_user: owner.user, key_team: owner.team, key_tags: owner.tags.length === 0 ? null : JSON.stringify(owner.tags) };
}

function bigint(dialect: StorageDialect): 'bigint' | 'integer' {
  return dialect === 'postgresql' ? 'bigint' : 'integer';
}

function real(dialect: StorageDialect): 'double precision' | 'real' {
  return dialect === 'postgresql' ? 'double precision' : 'real';
}

async function createUsage(db: Kysely<unknown>, dialect: StorageDialect): Promise<void> {
  await db.schema
    .createTable('usage')
    .ifNotExists()
    .addColumn('id', 'varchar(64)', (column) => column.primaryKey())
    .addColumn('request_id', 'varchar(128)', (column) => column.notNull())
    .addColumn('created_at', bigint(dialect), (column) => column.notNull())
    .addColumn('day', 'varchar(10)', (column) => column.notNull())
    .addColumn('endpoint', 'varchar(32)', (column) => column.notNull())
    .addColumn('provider', 'varchar(255)')
    .addColumn('provider_type', 'varchar(64)')
    .addColumn('model', 'varchar(255)')
    .addColumn('requested_model', 'varchar(255)')
    .addColumn('stream', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('status', 'integer', (column) => column.notNull())
    .addColumn('error_code', 'varchar(128)')
    .addColumn('input_tokens', bigint(dialect), (column) => column.notNull().defaultTo(0))
    .addColumn('output_tokens', bigint(dialect), (column) => column.notNull().defaultTo(0))
    .addColumn('total_tokens', bigint(dialect), (column) => column.notNull().defaultTo(0))
    .addColumn('cached_tokens', bigint(dialect), (column) => column.notNull().defaultTo(0))
    .addColumn('reasoning_tokens', bigint(dialect), (column) => column.notNull().defaultTo(0))
    .addColumn('cache_write_tokens', bigint(dialect), (column) => column.notNull().defaultTo(0))
    .addColumn('cost_usd', real(dialect))
    .addColumn('priced', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('key_id', 'varchar(128)')
    .addColumn('latency_ms', real(dialect), (column) => column.notNull().defaultTo(0))
    .addColumn('first_byte_ms', real(dialect))
    .addColumn('cache_status', 'varchar(16)', (column) => column.notNull().defaultTo('none'))
    .execute();
  await db.schema.createIndex('usage_created_at').ifNotExists().on('usage').column('created_at').execute();
  await db.schema.createIndex('usage_day').ifNotExists().on('usage').column('day').execute();
  await db.schema.createIndex('usage_request_id').ifNotExists().on('usage').column('request_id').execute();
}

async function createAuditLog(db: Kysely<unknown>, dialect: StorageDialect): Promise<void> {
  await db.schema
    .createTable('audit_log')
    .ifNotExists()
    .addColumn('id', 'varchar(64)', (column) => column.primaryKey())
    .addColumn('request_id', 'varchar(128)', (column) => column.notNull())
    .addColumn('created_at', bigint(dialect), (column) => column.notNull())
    .addColumn('day', 'varchar(10)', (column) => column.notNull())
    .addColumn('method', 'varchar(16)', (column) => column.notNull())
    .addColumn('path', 'varchar(1024)', (column) => column.notNull())
    .addColumn('endpoint', 'varchar(32)', (column) => column.notNull())
    .addColumn('provider', 'varchar(255)')
    .addColumn('provider_type', 'varchar(64)')
    .addColumn('model', 'varchar(255)')
    .addColumn('requested_model', 'varchar(255)')
    .addColumn('stream', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('status', 'integer', (column) => column.notNull())
    .addColumn('error_code', 'varchar(128)')
    .addColumn('error_message', 'text')
    .addColumn('latency_ms', real(dialect), (column) => column.notNull().defaultTo(0))
    .addColumn('first_byte_ms', real(dialect))
    .addColumn('key_id', 'varchar(128)')
    .addColumn('dropped_params', 'text')
    .addColumn('request_headers', 'text')
    .addColumn('response_headers', 'text')
    .addColumn('request_body', 'text')
    .addColumn('response_body', 'text')
    .addColumn('body_truncated', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('thread_key', 'varchar(64)')
    .execute();
  await db.schema.createIndex('audit_log_created_at').ifNotExists().on('audit_log').column('created_at').execute();
  await db.schema.createIndex('audit_log_request_id').ifNotExists().on('audit_log').column('request_id').execute();
  await db.schema.createIndex('audit_log_thread_key').ifNotExists().on('audit_log').column('thread_key').execute();
}

async function addResponseIds(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('audit_log').addColumn('response_id', 'varchar(128)').execute();
  await db.schema.alterTable('audit_log').addColumn('previous_response_id', 'varchar(128)').execute();
  await db.schema.createIndex('audit_log_response_id').ifNotExists().on('audit_log').column('response_id').execute();
  await db.schema.createIndex('audit_log_previous_response_id').ifNotExists().on('audit_log').column('previous_response_id').execute();
}

async function addAttempts(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('audit_log').addColumn('attempts', 'text').execute();
}

async function addGuardrails(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('audit_log').addColumn('guardrails', 'text').execute();
  await db.schema.alterTable('audit_log').addColumn('policy_version', 'varchar(64)').execute();
}

async function addSavedCost(db: Kysely<unknown>, dialect: StorageDialect): Promise<void> {
  await db.schema.alterTable('usage').addColumn('saved_cost_usd', real(dialect)).execute();
}

/** Attribution of records to a managed key's owner (user, team, tags). */
async function addKeyOwners(db: Kysely<unknown>): Promise<void> {
  for (const table of ['usage', 'audit_log']) {
    await db.schema.alterTable(table).addColumn('key_user', 'varchar(255)').execute();
    await db.schema.alterTable(table).addColumn('key_team', 'varchar(255)').execute();
    await db.schema.alterTable(table).addColumn('key_tags', 'text').execute();
  }
  await db.schema.createIndex('usage_key_user').ifNotExists().on('usage').column('key_user').execute();
  await db.schema.createIndex('usage_key_team').ifNotExists().on('usage').column('key_team').execute();
}

export const coreMigrations: StorageMigration[] = [
  { name: '20261125-01-usage', up: createUsage },
  { name: '20261125-02-audit-log', up: createAuditLog },
  { name: '20261125-03-audit-log-response-ids', up: addResponseIds },
  { name: '20261202-04-audit-log-attempts', up: addAttempts },
  { name: '20261202-20-audit-log-guardrails', up: addGuardrails },
  { name: '20261202-22-usage-saved-cost', up: addSavedCost },
  { name: '20261202-32-key-owners', up: addKeyOwners },
];
