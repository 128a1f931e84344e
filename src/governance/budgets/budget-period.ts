/**
 * Budget periods: hourly, daily, weekly (from Monday, ISO 8601), monthly, calendar-aligned in the IANA time
 * zone of BUDGET_TIMEZONE (default UTC), so "daily" restarts at local midnight (23 or 25 hours on the days
 * clocks change); or `custom` periods of N seconds counted from the Unix epoch.
 * Time-zone arithmetic goes through Intl.DateTimeFormat (the ICU data Node ships), no library.
 */
export const calendarPeriods = ['hourly', 'daily', 'weekly', 'monthly'] as const;
export const budgetPeriods = [...calendarPeriods, 'custom'] as const;
export type BudgetPeriod = (typeof budgetPeriods)[number];

export interface PeriodWindow {
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive. */
  end: number;
}

interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const weekdays: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

function formatter(timeZone: string): Intl.DateTimeFormat {
  let found = formatters.get(timeZone);
  if (!found) {
    found = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, found);
  }
  return found;
}

/** Whether Intl knows the time zone (for configuration errors). */
export function isTimeZone(timeZone: string): boolean {
  // The default needs no check; building the first Intl formatter loads ICU data (~80 ms at start).
  if (timeZone === 'UTC') return true;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

function wallTime(at: number, timeZone: string): WallTime {
  const parts: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(at))) parts[part.type] = part.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: weekdays[parts.weekday ?? 'Mon'] ?? 1,
  };
}

/** Offset of the zone from UTC at an instant, in ms (wall time minus UTC). */
function offsetAt(at: number, timeZone: string): number {
  const wall = wallTime(at, timeZone);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return asUtc - Math.floor(at / 1000) * 1000;
}

/**
 * The instant a wall time in the zone names. A wall time skipped by a clock change (spring forward)
 * becomes the first instant after the gap.
 */
export function instantOf(year: number, month: number, day: number, hour: number, timeZone: string): number {
  const guess = Date.UTC(year, month - 1, day, hour);
  let instant = guess - offsetAt(guess, timeZone);
  const second = guess - offsetAt(instant, timeZone);
  if (second !== instant) instant = Math.max(instant, second);
  return instant;
}

export function periodWindow(period: BudgetPeriod, at: number, timeZone: string, customSeconds = 0): PeriodWindow {
  if (period === 'custom') {
    const length = customSeconds * 1000;
    const start = Math.floor(at / length) * length;
    return { start, end: start + length };
  }
  const wall = wallTime(at, timeZone);
  const { year, month, day } = wall;
  if (period === 'hourly') {
    const start = instantOf(year, month, day, wall.hour, timeZone);
    // Computed from the wall time, so an hour repeated by a clock change is still one hour.
    const end = start + 3_600_000;
    return { start: Math.min(start, at), end: Math.max(end, at + 1) };
  }
  if (period === 'daily') {
    return { start: instantOf(year, month, day, 0, timeZone), end: instantOf(year, month, day + 1, 0, timeZone) };
  }
  if (period === 'weekly') {
    const monday = day - (wall.weekday - 1);
    return { start: instantOf(year, month, monday, 0, timeZone), end: instantOf(year, month, monday + 7, 0, timeZone) };
  }
  return { start: instantOf(year, month, 1, 0, timeZone), end: instantOf(year, month + 1, 1, 0, timeZone) };
}
