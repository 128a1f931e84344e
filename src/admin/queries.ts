/**
 * Read side of the usage and audit tables for the admin API. Same SQL on SQLite and PostgreSQL:
 * days are `YYYY-MM-DD` text, weeks and months are folded from days here; numbers go through Number()
 * because PostgreSQL returns bigint and SUM() as strings.
 */
import { type SelectQueryBuilder, sql } from 'kysely';
import type { AuditLogTable, Storage, StorageTables, UsageTable } from '../storage/database.ts';
import { type AuditFilters, dayOf, type Page, type UsageFilters } from './admin-filters.ts';

export interface UsageTotals {
  requests: number;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  cache_write_tokens: number;
  /** Sum over priced records; unpriced records are counted in `unpriced_requests`. */
  cost_usd: number;
  unpriced_requests: number;
  error_requests: number;
  average_latency_ms: number;
}

const number = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));

type Row = Record<string, unknown>;

function totalsFrom(row: Row | undefined): UsageTotals {
  const requests = number(row?.requests);
  return {
    requests,
    input_tokens: number(row?.input_tokens),
    output_tokens: number(row?.output_tokens),
    total_tokens: number(row?.total_tokens),
    cached_tokens: number(row?.cached_tokens),
    reasoning_tokens: number(row?.reasoning_tokens),
    cache_write_tokens: number(row?.cache_write_tokens),
    cost_usd: number(row?.cost_usd),
    unpriced_requests: number(row?.unpriced_requests),
    error_requests: number(row?.error_requests),
    average_latency_ms: requests === 0 ? 0 : Math.round((number(row?.latency_sum) / requests) * 1000) / 1000,
  };
}

export function createAdminQueries(storage: Storage) {
  const db = storage.db;

  function usageQuery(filters: UsageFilters) {
    return filterUsage(db.selectFrom('usage').where('day', '>=', filters.range.startDay).where('day', '<=', filters.range.endDay), filters);
  }

  function totalsSelect<Q extends ReturnType<typeof usageQuery>>(query: Q) {
    return query.select((eb) => [
      eb.fn.countAll().as('requests'),
      eb.fn.sum('input_tokens').as('input_tokens'),
      eb.fn.sum('output_tokens').as('output_tokens'),
      eb.fn.sum('total_tokens').as('total_tokens'),
      eb.fn.sum('cached_tokens').as('cached_tokens'),
      eb.fn.sum('reasoning_tokens').as('reasoning_tokens'),
      eb.fn.sum('cache_write_tokens').as('cache_write_tokens'),
      eb.fn.sum('cost_usd').as('cost_usd'),
      eb.fn.sum(eb.case().when('priced', '=', 0).then(1).else(0).end()).as('unpriced_requests'),
      eb.fn.sum(eb.case().when('status', '>=', 400).then(1).else(0).end()).as('error_requests'),
      eb.fn.sum('latency_ms').as('latency_sum'),
    ]);
  }

  async function summary(filters: UsageFilters): Promise<UsageTotals> {
    const row = await totalsSelect(usageQuery(filters)).executeTakeFirst();
    return totalsFrom(row as Row | undefined);
  }

  async function daily(filters: UsageFilters): Promise<(UsageTotals & { day: string })[]> {
    const rows = await totalsSelect(usageQuery(filters)).select('day').groupBy('day').orderBy('day').execute();
    return rows.map((row) => ({ day: String(row.day), ...totalsFrom(row as Row) }));
  }

  async function byModel(filters: UsageFilters) {
    const rows = await totalsSelect(usageQuery(filters))
      .select(['model', 'provider', 'provider_type'])
      .groupBy(['model', 'provider', 'provider_type'])
      .execute();
    return rows
      .map((row) => ({ model: row.model, provider: row.provider, provider_type: row.provider_type, ...totalsFrom(row as Row) }))
      .sort((left, right) => right.total_tokens - left.total_tokens || right.requests - left.requests);
  }

  async function byProvider(filters: UsageFilters) {
    const rows = await totalsSelect(usageQuery(filters))
      .select(['provider', 'provider_type'])
      .groupBy(['provider', 'provider_type'])
      .execute();
    return rows
      .map((row) => ({ provider: row.provider, provider_type: row.provider_type, ...totalsFrom(row as Row) }))
      .sort((left, right) => right.total_tokens - left.total_tokens || right.requests - left.requests);
  }

  /**
   * Totals per key, user, team or tag. A call made with several tags counts in each of its tags' groups;
   * calls without the field (the master key, a key without a team...) form the `null` group.
   */
  async function byGroup(filters: UsageFilters, by: UsageGroup) {
    const column = groupColumns[by];
    const rows = (await totalsSelect(usageQuery(filters)).select(column).groupBy(column).execute()) as Row[];
    if (by !== 'tag') {
      return rows.map((row) => ({ group: (row[column] as string | null) ?? null, ...totalsFrom(row) })).sort(byCost);
    }
    const folded = new Map<string | null, Row>();
    for (const row of rows) {
      for (const tag of tagsOf(row.key_tags)) {
        const into = folded.get(tag) ?? {};
        for (const [name, value] of Object.entries(row)) if (name !== 'key_tags') into[name] = number(into[name]) + number(value);
        folded.set(tag, into);
      }
    }
    return [...folded].map(([group, row]) => ({ group, ...totalsFrom(row) })).sort(byCost);
  }

  async function usageLog(filters: UsageFilters, page: Page) {
    const base = usageQuery(filters);
    const [rows, count] = await Promise.all([
      base.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute(),
      base.select((eb) => eb.fn.countAll().as('count')).executeTakeFirst(),
    ]);
    return { data: rows.map(usageEntry), total: number(count?.count), limit: page.limit, offset: page.offset };
  }

  function auditQuery(filters: AuditFilters) {
    let query = db.selectFrom('audit_log').where('day', '>=', filters.range.startDay).where('day', '<=', filters.range.endDay);
    if (filters.model)
      query = query.where((eb) => eb.or([eb('model', '=', filters.model ?? ''), eb('requested_model', '=', filters.model ?? '')]));
    if (filters.provider) query = query.where('provider', '=', filters.provider);
    if (filters.endpoint) query = query.where('endpoint', '=', filters.endpoint);
    if (filters.keyId) query = query.where('key_id', '=', filters.keyId);
    if (filters.user) query = query.where('key_user', '=', filters.user);
    if (filters.team) query = query.where('key_team', '=', filters.team);
    if (filters.tag) query = query.where(sql<boolean>`key_tags like ${tagPattern(filters.tag)} escape '!'`);
    if (filters.status !== undefined) query = query.where('status', '=', filters.status);
    if (filters.requestId) query = query.where('request_id', '=', filters.requestId);
    if (filters.method) query = query.where('method', '=', filters.method);
    if (filters.path) query = query.where('path', '=', filters.path);
    if (filters.errorsOnly === true) query = query.where('status', '>=', 400);
    if (filters.errorsOnly === false) query = query.where('status', '<', 400);
    if (filters.stream !== undefined) query = query.where('stream', '=', filters.stream ? 1 : 0);
    if (filters.start !== undefined) query = query.where('created_at', '>=', filters.start);
    if (filters.end !== undefined) query = query.where('created_at', '<', filters.end);
    if (filters.text !== undefined) {
      // Parameterised LIKE on lower() of each column, `!` escaping the wildcards: the same on both dialects.
      const pattern = `%${filters.text.toLowerCase().replace(/[!%_]/g, (character) => `!${character}`)}%`;
      const columns = [
        'model',
        'requested_model',
        'path',
        'request_id',
        'error_code',
        'error_message',
        'request_body',
        'response_body',
      ] as const;
      query = query.where((eb) => eb.or(columns.map((column) => sql<boolean>`lower(${sql.ref(column)}) like ${pattern} escape '!'`)));
    }
    return query;
  }

  async function auditLog(filters: AuditFilters, page: Page) {
    const base = auditQuery(filters);
    const [rows, count] = await Promise.all([
      base.selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute(),
      base.select((eb) => eb.fn.countAll().as('count')).executeTakeFirst(),
    ]);
    return { data: rows.map(auditEntry), total: number(count?.count), limit: page.limit, offset: page.offset };
  }

  async function auditEntryById(id: string) {
    const row = await db.selectFrom('audit_log').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? auditEntry(row) : null;
  }

  /**
   * The calls of the conversation an audit entry belongs to, oldest first (at most 200): calls that
   * share its opening messages, and for the Responses API the chain of `previous_response_id` links
   * back to the first response and forward to the latest.
   */
  async function thread(id: string) {
    const row = await db.selectFrom('audit_log').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    const limit = 200;
    const found = new Map<string, AuditLogTable>([[row.id, row]]);
    // Follows a previous_response_id link from `start` (backward or forward) as far as it goes, collecting entries.
    async function walk(start: AuditLogTable, direction: 'back' | 'forward'): Promise<AuditLogTable> {
      let current = start;
      while (found.size < limit) {
        const link = direction === 'back' ? current.previous_response_id : current.response_id;
        if (!link) break;
        const neighbour = await db
          .selectFrom('audit_log')
          .selectAll()
          .where(direction === 'back' ? 'response_id' : 'previous_response_id', '=', link)
          .orderBy('created_at', 'asc')
          .executeTakeFirst();
        if (!neighbour || found.has(neighbour.id)) break;
        found.set(neighbour.id, neighbour);
        current = neighbour;
      }
      return current;
    }
    // Back to the first response of the chain, then forward to the latest response that continued it.
    const root = await walk(row, 'back');
    await walk(row, 'forward');
    const threadKey = root.thread_key ?? row.thread_key;
    if (threadKey) {
      const rows = await db
        .selectFrom('audit_log')
        .selectAll()
        .where('thread_key', '=', threadKey)
        .orderBy('created_at', 'asc')
        .orderBy('id', 'asc')
        .limit(limit)
        .execute();
      for (const item of rows) if (found.size < limit || found.has(item.id)) found.set(item.id, item);
    }
    const entries = [...found.values()].sort(
      (left, right) => Number(left.created_at) - Number(right.created_at) || left.id.localeCompare(right.id),
    );
    return { id, thread_key: threadKey, entries: entries.map(auditEntry) };
  }

  return { summary, daily, byModel, byProvider, byGroup, usageLog, auditLog, auditEntryById, thread };
}

export type AdminQueries = ReturnType<typeof createAdminQueries>;

/** Applies the filters other than the date range to a query of the usage table. */
export function filterUsage<O>(
  query: SelectQueryBuilder<StorageTables, 'usage', O>,
  filters: Omit<UsageFilters, 'range'>,
): SelectQueryBuilder<StorageTables, 'usage', O> {
  let filtered = query;
  if (filters.model)
    filtered = filtered.where((eb) => eb.or([eb('model', '=', filters.model ?? ''), eb('requested_model', '=', filters.model ?? '')]));
  if (filters.provider) filtered = filtered.where('provider', '=', filters.provider);
  if (filters.endpoint) filtered = filtered.where('endpoint', '=', filters.endpoint);
  if (filters.keyId) filtered = filtered.where('key_id', '=', filters.keyId);
  if (filters.keyId === null) filtered = filtered.where('key_id', 'is', null);
  if (filters.user) filtered = filtered.where('key_user', '=', filters.user);
  if (filters.team) filtered = filtered.where('key_team', '=', filters.team);
  if (filters.tag) filtered = filtered.where(sql<boolean>`key_tags like ${tagPattern(filters.tag)} escape '!'`);
  if (filters.status !== undefined) filtered = filtered.where('status', '=', filters.status);
  if (filters.requestId) filtered = filtered.where('request_id', '=', filters.requestId);
  return filtered;
}

export const usageGroups = ['key', 'user', 'team', 'tag'] as const;
export type UsageGroup = (typeof usageGroups)[number];

const groupColumns = { key: 'key_id', user: 'key_user', team: 'key_team', tag: 'key_tags' } as const;

const byCost = (left: UsageTotals, right: UsageTotals) => right.cost_usd - left.cost_usd || right.requests - left.requests;

/** LIKE pattern matching one tag inside the stored JSON array (`!` escapes LIKE's wildcards). */
function tagPattern(tag: string): string {
  return `%${JSON.stringify(tag).replace(/[!%_]/g, (character) => `!${character}`)}%`;
}

function tagsOf(value: unknown): (string | null)[] {
  if (typeof value !== 'string') return [null];
  try {
    const tags = JSON.parse(value) as unknown;
    const list = Array.isArray(tags) ? tags.filter((tag): tag is string => typeof tag === 'string') : [];
    return list.length === 0 ? [null] : list;
  } catch {
    return [null];
  }
}

/** The columns usage records and audit entries share, as the admin API shows them. */
function callEntry(row: UsageTable | AuditLogTable) {
  return {
    id: row.id,
    request_id: row.request_id,
    created_at: new Date(Number(row.created_at)).toISOString(),
    endpoint: row.endpoint,
    provider: row.provider,
    provider_type: row.provider_type,
    model: row.model,
    requested_model: row.requested_model,
    stream: Number(row.stream) === 1,
    status: Number(row.status),
    latency_ms: Number(row.latency_ms),
    first_byte_ms: row.first_byte_ms === null ? null : Number(row.first_byte_ms),
    key_id: row.key_id,
    user: row.key_user ?? null,
    team: row.key_team ?? null,
    tags: tagsOf(row.key_tags).filter((tag): tag is string => tag !== null),
  };
}

export function usageEntry(row: UsageTable) {
  return {
    ...callEntry(row),
    error_code: row.error_code,
    input_tokens: Number(row.input_tokens),
    output_tokens: Number(row.output_tokens),
    total_tokens: Number(row.total_tokens),
    cached_tokens: Number(row.cached_tokens),
    reasoning_tokens: Number(row.reasoning_tokens),
    cache_write_tokens: Number(row.cache_write_tokens),
    cost_usd: row.cost_usd === null ? null : Number(row.cost_usd),
    priced: Number(row.priced) === 1,
    cache_status: row.cache_status,
  };
}

function parseStored(value: string | null): unknown {
  if (value === null) return null;
  try {
    return JSON.parse(value);
  } catch {
    return value; // a body cut at LOGGING_MAX_BODY_BYTES is kept as text
  }
}

export function auditEntry(row: AuditLogTable) {
  return {
    ...callEntry(row),
    method: row.method,
    path: row.path,
    error: row.error_code === null ? null : { code: row.error_code, message: row.error_message },
    dropped_params: row.dropped_params ? row.dropped_params.split(',') : [],
    request_headers: parseStored(row.request_headers),
    response_headers: parseStored(row.response_headers),
    request_body: parseStored(row.request_body),
    response_body: parseStored(row.response_body),
    body_truncated: Number(row.body_truncated) === 1,
    thread_key: row.thread_key,
    response_id: row.response_id,
    previous_response_id: row.previous_response_id,
    attempts: parseStored(row.attempts ?? null) ?? [],
    guardrails: parseStored(row.guardrails ?? null) ?? [],
    policy_version: row.policy_version ?? null,
  };
}

/** Folds daily rows into ISO weeks (starting Monday) or calendar months. */
export function foldPeriods<T extends UsageTotals & { day: string }>(
  days: T[],
  period: 'week' | 'month',
): (UsageTotals & { period: string })[] {
  const buckets = new Map<string, UsageTotals & { period: string; latency_sum: number }>();
  for (const day of days) {
    let key: string;
    if (period === 'month') key = day.day.slice(0, 7);
    else {
      const date = new Date(`${day.day}T00:00:00Z`);
      const weekday = (date.getUTCDay() + 6) % 7;
      key = dayOf(new Date(date.getTime() - weekday * 86_400_000));
    }
    let bucket = buckets.get(key);
    if (!bucket) {
      bucket = { period: key, ...totalsFrom(undefined), latency_sum: 0 };
      buckets.set(key, bucket);
    }
    bucket.requests += day.requests;
    bucket.input_tokens += day.input_tokens;
    bucket.output_tokens += day.output_tokens;
    bucket.total_tokens += day.total_tokens;
    bucket.cached_tokens += day.cached_tokens;
    bucket.reasoning_tokens += day.reasoning_tokens;
    bucket.cache_write_tokens += day.cache_write_tokens;
    bucket.cost_usd += day.cost_usd;
    bucket.unpriced_requests += day.unpriced_requests;
    bucket.error_requests += day.error_requests;
    bucket.latency_sum += day.average_latency_ms * day.requests;
  }
  return [...buckets.values()]
    .sort((left, right) => left.period.localeCompare(right.period))
    .map(({ latency_sum: latencySum, ...bucket }) => ({
      ...bucket,
      average_latency_ms: bucket.requests === 0 ? 0 : Math.round((latencySum / bucket.requests) * 1000) / 1000,
    }));
}
