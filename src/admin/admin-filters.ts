/**
 * Query parameters of the admin usage and audit endpoints: the date range (`days`, `start_date`,
 * `end_date`), paging, the usage filters and the audit log's own (instants, text search, method, path...).
 */
import { invalidRequest } from '../core/errors.ts';
import { parseInstant } from './parse-instant.ts';

export interface DateRange {
  startDay: string;
  endDay: string;
}

export interface UsageFilters {
  range: DateRange;
  model?: string;
  provider?: string;
  endpoint?: string;
  /** A key's record id; null: calls made without a key (open access). */
  keyId?: string | null;
  /** Owner fields of the managed key the calls were made with. */
  user?: string;
  team?: string;
  tag?: string;
  status?: number;
  requestId?: string;
}

export interface AuditFilters extends UsageFilters {
  /** Case-insensitive substring of the model, path, request id, error and (when stored) the bodies. */
  text?: string;
  /** Instants (epoch ms) narrowing the days: start <= created_at < end. */
  start?: number;
  end?: number;
  method?: string;
  path?: string;
  errorsOnly?: boolean;
  stream?: boolean;
}

export interface Page {
  limit: number;
  offset: number;
}

const dayPattern = /^\d{4}-\d{2}-\d{2}$/;

export function dayOf(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function addDays(day: string, days: number): string {
  return dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000));
}

function validDay(value: string, name: string): string {
  if (!dayPattern.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    throw invalidRequest(`'${name}' must be a date as YYYY-MM-DD`, name, 'invalid_value');
  }
  return value;
}

function integerParameter(query: Record<string, string>, name: string, fallback: number, min: number, max: number): number {
  const raw = query[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidRequest(`'${name}' must be an integer between ${min} and ${max}`, name, 'invalid_value');
  }
  return value;
}

/** `start_date`/`end_date` (YYYY-MM-DD, inclusive, UTC) or `days` (default 30, ending today). */
export function parseRange(query: Record<string, string>, now = new Date()): DateRange {
  const today = dayOf(now);
  const endDay = query.end_date ? validDay(query.end_date, 'end_date') : today;
  if (query.start_date) {
    const startDay = validDay(query.start_date, 'start_date');
    if (startDay > endDay) throw invalidRequest("'start_date' is after 'end_date'", 'start_date', 'invalid_value');
    return { startDay, endDay };
  }
  const days = integerParameter(query, 'days', 30, 1, 36_500);
  return { startDay: addDays(endDay, -(days - 1)), endDay };
}

export function parsePage(query: Record<string, string>): Page {
  return { limit: integerParameter(query, 'limit', 50, 1, 500), offset: integerParameter(query, 'offset', 0, 0, 10_000_000) };
}

function optional(query: Record<string, string>, name: string): string | undefined {
  const value = query[name];
  return value === undefined || value === '' ? undefined : value;
}

/** The usage filters other than the date range (`model`, `provider`, `endpoint`, `key_id`, `user`, `team`, `tag`, `request_id`, `status`). */
export function parseCallFilters(query: Record<string, string>): Omit<UsageFilters, 'range'> {
  const filters: Omit<UsageFilters, 'range'> = {};
  const model = optional(query, 'model');
  const provider = optional(query, 'provider');
  const endpoint = optional(query, 'endpoint');
  const keyId = optional(query, 'key_id');
  const requestId = optional(query, 'request_id');
  if (model) filters.model = model;
  if (provider) filters.provider = provider;
  if (endpoint) filters.endpoint = endpoint;
  if (keyId) filters.keyId = keyId;
  for (const name of ['user', 'team', 'tag'] as const) {
    const value = optional(query, name);
    if (value) filters[name] = value;
  }
  if (requestId) filters.requestId = requestId;
  if (optional(query, 'status')) filters.status = integerParameter(query, 'status', 0, 100, 599);
  return filters;
}

export function parseUsageFilters(query: Record<string, string>): UsageFilters {
  return { range: parseRange(query), ...parseCallFilters(query) };
}

/** Longest `q` of the audit log search. */
export const maxSearchLength = 200;

export function parseAuditFilters(query: Record<string, string>, now = Date.now()): AuditFilters {
  const start = optional(query, 'start') === undefined ? undefined : parseInstant(query.start as string, 'start');
  const end = optional(query, 'end') === undefined ? undefined : parseInstant(query.end as string, 'end');
  if (start !== undefined && end !== undefined && start >= end)
    throw invalidRequest("'start' must be before 'end'", 'start', 'invalid_value');
  const filters: AuditFilters = parseUsageFilters(query);
  if (start !== undefined || end !== undefined) {
    // Instants without days: the days they span (start alone: up to today; end alone: the 30 days before it).
    if (!query.start_date && !query.end_date && !query.days) {
      const last = end === undefined ? now : end - 1;
      filters.range = {
        startDay: dayOf(new Date(start ?? last - 29 * 86_400_000)),
        endDay: dayOf(new Date(Math.max(last, start ?? last))),
      };
    }
    if (start !== undefined) filters.start = start;
    if (end !== undefined) filters.end = end;
  }
  const text = optional(query, 'q');
  if (text !== undefined) {
    if (text.length > maxSearchLength) throw invalidRequest(`'q' must be at most ${maxSearchLength} characters`, 'q', 'invalid_value');
    filters.text = text;
  }
  const method = optional(query, 'method');
  const path = optional(query, 'path');
  if (method) filters.method = method.toUpperCase();
  if (path) filters.path = path;
  const errors = optional(query, 'errors_only');
  if (errors !== undefined) filters.errorsOnly = errors === 'true' || errors === '1';
  const stream = optional(query, 'stream');
  if (stream !== undefined) filters.stream = stream === 'true' || stream === '1';
  return filters;
}
