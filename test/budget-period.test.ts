/** Budget periods: calendar-aligned in the configured IANA zone (clock changes included), custom seconds from the epoch. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/load-config.ts';
import { periodWindow } from '../src/governance/budgets/budget-period.ts';

const iso = (window: { start: number; end: number }) => [new Date(window.start).toISOString(), new Date(window.end).toISOString()];

describe('budget periods', () => {
  const at = Date.parse('2026-03-11T15:42:10Z'); // a Wednesday

  it('aligns hourly, daily, weekly and monthly periods in UTC', () => {
    expect(iso(periodWindow('hourly', at, 'UTC'))).toEqual(['2026-03-11T15:00:00.000Z', '2026-03-11T16:00:00.000Z']);
    expect(iso(periodWindow('daily', at, 'UTC'))).toEqual(['2026-03-11T00:00:00.000Z', '2026-03-12T00:00:00.000Z']);
    expect(iso(periodWindow('weekly', at, 'UTC'))).toEqual(['2026-03-09T00:00:00.000Z', '2026-03-16T00:00:00.000Z']);
    expect(iso(periodWindow('monthly', at, 'UTC'))).toEqual(['2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z']);
    expect(iso(periodWindow('monthly', Date.parse('2026-12-31T23:59:59Z'), 'UTC'))).toEqual(['2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']);
  });

  it('aligns to local midnight in another zone, 23 hours long on the day clocks go forward', () => {
    // Tokyo is UTC+9 without daylight saving time.
    expect(iso(periodWindow('daily', at, 'Asia/Tokyo'))).toEqual(['2026-03-11T15:00:00.000Z', '2026-03-12T15:00:00.000Z']);
    // Europe/Paris moves from UTC+1 to UTC+2 on Sunday 29 March 2026 at 02:00 local time.
    const changeDay = periodWindow('daily', Date.parse('2026-03-29T12:00:00Z'), 'Europe/Paris');
    expect(iso(changeDay)).toEqual(['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z']);
    expect(changeDay.end - changeDay.start).toBe(23 * 3_600_000);
    expect(iso(periodWindow('weekly', Date.parse('2026-03-29T12:00:00Z'), 'Europe/Paris'))).toEqual([
      '2026-03-22T23:00:00.000Z',
      '2026-03-29T22:00:00.000Z',
    ]);
    expect(iso(periodWindow('monthly', at, 'America/New_York'))).toEqual(['2026-03-01T05:00:00.000Z', '2026-04-01T04:00:00.000Z']);
  });

  it('counts custom periods from the epoch', () => {
    expect(iso(periodWindow('custom', at, 'UTC', 6 * 3600))).toEqual(['2026-03-11T12:00:00.000Z', '2026-03-11T18:00:00.000Z']);
  });

  it('reads budgets from env and config.yaml, and refuses bad settings naming the key', () => {
    const config = loadConfig({ BUDGET_GLOBAL_DAILY_USD: '12.5', BUDGET_TIMEZONE: 'Europe/Paris' }, '/nonexistent').budgets;
    expect(config.timeZone).toBe('Europe/Paris');
    expect(config.softThreshold).toBe(0.8);
    expect(config.budgets).toEqual([expect.objectContaining({ scope: 'global', subject: '*', limitUsd: 12.5, period: 'daily', source: 'config' })]);
    for (const [env, key] of [
      [{ BUDGET_TIMEZONE: 'Mars/Olympus' }, 'BUDGET_TIMEZONE'],
      [{ BUDGET_KEY_MONTHLY_USD: '-3' }, 'BUDGET_KEY_MONTHLY_USD'],
      [{ BUDGET_SOFT_THRESHOLD: '2' }, 'BUDGET_SOFT_THRESHOLD'],
      [{ BUDGET_ALERT_WEBHOOK_URL: 'ftp://x' }, 'BUDGET_ALERT_WEBHOOK_URL'],
    ] as const) {
      expect(() => loadConfig(env, '/nonexistent')).toThrow(ConfigError);
      expect(() => loadConfig(env, '/nonexistent')).toThrow(key);
    }
  });
});
