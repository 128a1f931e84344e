/** Rate-limit configuration: config.yaml, env for the simple cases (env wins), errors naming the key; reset durations. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/load-config.ts';
import { formatResetDuration } from '../src/governance/limits/rate-limit-headers.ts';
import { applicableLimits, hasAnyLimit, planAttempt } from '../src/governance/limits/rate-limit-plan.ts';

function withYaml(text: string): string {
  const directory = mkdtempSync(join(tmpdir(), 'modelgate-governance-config-'));
  writeFileSync(join(directory, 'config.yaml'), text);
  return directory;
}

function configError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('rate-limit configuration', () => {
  it('has no limits and fail mode open by default', () => {
    const config = loadConfig({}, '/nonexistent').rateLimits;
    expect(config.failMode).toBe('open');
    expect(hasAnyLimit(config)).toBe(false);
  });

  it('reads config.yaml and lets the environment win field by field (0 removes a limit)', () => {
    const directory = withYaml(
      [
        'rate_limits:',
        '  fail_mode: closed',
        '  global: { requests_per_minute: 100, tokens_per_day: 5000 }',
        '  per_key: { requests_per_minute: 10, concurrent: 2 }',
        '  teams: { search: { tokens_per_minute: 900 } }',
        '  providers: { openai: { requests_per_day: 7 } }',
      ].join('\n'),
    );
    const config = loadConfig({ RATE_LIMIT_GLOBAL_RPM: '50', RATE_LIMIT_KEY_CONCURRENT: '0', RATE_LIMIT_USER_TPD: '123' }, directory).rateLimits;
    expect(config.failMode).toBe('closed');
    expect(config.global).toEqual({ requestsPerMinute: 50, tokensPerDay: 5000 });
    expect(config.perKey).toEqual({ requestsPerMinute: 10 });
    expect(config.perUser).toEqual({ tokensPerDay: 123 });
    expect(config.teams).toEqual({ search: { tokensPerMinute: 900 } });
    expect(config.providers).toEqual({ openai: { requestsPerDay: 7 } });
  });

  it('refuses bad values, naming the key', () => {
    expect(configError(() => loadConfig({ RATE_LIMIT_KEY_RPM: 'many' }, '/nonexistent'))).toContain('RATE_LIMIT_KEY_RPM');
    expect(configError(() => loadConfig({ RATE_LIMIT_FAIL_MODE: 'maybe' }, '/nonexistent'))).toContain('RATE_LIMIT_FAIL_MODE');
    expect(configError(() => loadConfig({}, withYaml('rate_limits:\n  per_key: { requests_per_hour: 3 }\n')))).toContain('rate_limits.per_key');
    expect(configError(() => loadConfig({}, withYaml('rate_limits:\n  global: { requests_per_minute: -1 }\n')))).toContain('rate_limits.global');
  });

  it('picks the limits of each scope: named users and teams replace the defaults, provider/model before the bare model', () => {
    const config = loadConfig({}, withYaml(
      [
        'rate_limits:',
        '  per_user: { requests_per_minute: 5 }',
        '  users: { alice: { requests_per_minute: 50 } }',
        '  models: { gpt-4o: { requests_per_minute: 1 }, azure/gpt-4o: { requests_per_minute: 2 } }',
      ].join('\n'),
    )).rateLimits;
    const key = { id: 'key_1', user: 'alice', team: null, rateLimits: {} } as never;
    expect(applicableLimits(config, key, { provider: 'azure', model: 'gpt-4o' })).toEqual([
      { scope: 'user', subject: 'alice', limits: { requestsPerMinute: 50 } },
      { scope: 'model', subject: 'azure/gpt-4o', limits: { requestsPerMinute: 2 } },
    ]);
    const bob = { id: 'key_2', user: 'bob', team: null, rateLimits: {} } as never;
    const limits = applicableLimits(config, bob, { provider: 'openai', model: 'gpt-4o' });
    expect(limits.map((entry) => [entry.subject, entry.limits.requestsPerMinute])).toEqual([['bob', 5], ['gpt-4o', 1]]);
    expect(planAttempt(limits).requests.map((window) => window.key)).toEqual(['rl:user:bob:rpm:5', 'rl:model:gpt-4o:rpm:1']);
  });
});

describe('reset durations (OpenAI notation)', () => {
  it('formats like Go durations', () => {
    expect(formatResetDuration(0)).toBe('0s');
    expect(formatResetDuration(20)).toBe('20ms');
    expect(formatResetDuration(1000)).toBe('1s');
    expect(formatResetDuration(1500)).toBe('1.5s');
    expect(formatResetDuration(360_000)).toBe('6m0s');
    expect(formatResetDuration(3_723_000)).toBe('1h2m3s');
  });
});
