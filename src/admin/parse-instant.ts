/**
 * Instants in admin query parameters: ISO 8601 (`2026-12-01`, `2026-12-01T10:00:00Z`, with an offset) or
 * epoch milliseconds. A date and time without an offset is UTC (never the server's local time).
 */
import { invalidRequest } from '../core/errors.ts';

const isoPattern = /^\d{4}-\d{2}-\d{2}([Tt ][\d:.]+([Zz]|[+-]\d{2}:?\d{2})?)?$/;

export function parseInstant(value: string, name: string): number {
  const text = value.trim();
  const iso = isoPattern.exec(text);
  const time = /^\d{1,16}$/.test(text) ? Number(text) : iso ? Date.parse(iso[1] && !iso[2] ? `${text}Z` : text) : Number.NaN;
  if (!Number.isFinite(time) || time < 0 || time > 8_640_000_000_000_000) {
    throw invalidRequest(`'${name}' must be an ISO 8601 date or time, or epoch milliseconds`, name, 'invalid_value');
  }
  return time;
}
