/** Time ranges of the Overview and Usage pages: 24 h, 7 d, 30 d or custom, and the period just before. */

export type RangePreset = '24h' | '7d' | '30d' | 'custom';

export interface TimeRange {
  preset: RangePreset;
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive. */
  end: number;
}

const hour = 3_600_000;
const day = 24 * hour;

export const presetLengths: Record<Exclude<RangePreset, 'custom'>, number> = { '24h': day, '7d': 7 * day, '30d': 30 * day };

export function presetRange(preset: Exclude<RangePreset, 'custom'>, now = Date.now()): TimeRange {
  // End at the next full hour so that hourly buckets line up.
  const end = Math.ceil(now / hour) * hour;
  return { preset, start: end - presetLengths[preset], end };
}

export function customRange(startDay: string, endDay: string): TimeRange | null {
  const start = Date.parse(`${startDay}T00:00:00Z`);
  const end = Date.parse(`${endDay}T00:00:00Z`) + day;
  if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) return null;
  return { preset: 'custom', start, end };
}

export function previousRange(range: TimeRange): TimeRange {
  const length = range.end - range.start;
  return { preset: range.preset, start: range.start - length, end: range.start };
}

export function bucketOf(range: TimeRange): 'hour' | 'day' {
  return range.end - range.start <= 2 * day ? 'hour' : 'day';
}

export function isoDay(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/** The inclusive UTC days a range touches, for the day-based endpoints (start_date / end_date). */
export function dayQuery(range: TimeRange): { start_date: string; end_date: string } {
  return { start_date: isoDay(range.start), end_date: isoDay(range.end - 1) };
}

/** One entry per UTC day of the range, `fill(day)` for each (days without data too, so charts show gaps as such). */
export function eachDay<T>(range: TimeRange, fill: (day: string, epochMs: number) => T): T[] {
  const result: T[] = [];
  for (let t = Math.floor(range.start / day) * day; t < range.end; t += day) result.push(fill(isoDay(t), t));
  return result;
}
