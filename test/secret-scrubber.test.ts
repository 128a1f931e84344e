/** The secret scrubber: configured secrets in every form, key shapes, no false positives; errors and log lines pass it. */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../src/core/errors.ts';
import { upstreamHttpError } from '../src/providers/upstream-client.ts';
import { createScrubbingDestination } from '../src/security/scrubbing-log-destination.ts';
import { configuredSecrets, createSecretScrubber, processScrubber } from '../src/security/secret-scrubber.ts';

describe('secret scrubber', () => {
  it('masks configured secrets as they are, JSON-escaped and URL-encoded', () => {
    const scrubber = createSecretScrubber(['my"secret/value+1', undefined, 'short']);
    expect(scrubber.scrub('key my"secret/value+1 here')).toBe('key [REDACTED] here');
    expect(scrubber.scrub(JSON.stringify({ text: 'key my"secret/value+1' }))).toBe('{"text":"key [REDACTED]"}');
    expect(scrubber.scrub(`?k=${encodeURIComponent('my"secret/value+1')}`)).toBe('?k=[REDACTED]');
    expect(scrubber.scrub('short stays')).toBe('short stays');
  });

  it('masks a secret that contains another one whole', () => {
    const scrubber = createSecretScrubber(['abcdef', 'abcdefghij']);
    expect(scrubber.scrub('x abcdefghij y abcdef')).toBe('x [REDACTED] y [REDACTED]');
  });

  it('masks provider key shapes and managed keys nobody configured', () => {
    const scrubber = createSecretScrubber();
    const keys = [
      `sk-proj-${'a1B2'.repeat(12)}`,
      `sk-ant-api03-${'x9Y8'.repeat(10)}`,
      `sk-${'0'.repeat(48)}`,
      `AIza${'S'.repeat(35)}`,
      `gsk_${'q'.repeat(52)}`,
      `xai-${'z'.repeat(60)}`,
      `mg-${'M_-'.repeat(15)}`,
    ];
    for (const key of keys) expect(scrubber.scrub(`Incorrect API key provided: ${key}.`)).toBe('Incorrect API key provided: [REDACTED].');
    expect(scrubber.scrub('Authorization: Bearer abc.def-ghi_jkl')).toBe('Authorization: [REDACTED]');
  });

  it('leaves ordinary text alone', () => {
    const scrubber = createSecretScrubber(['configured-secret-1']);
    for (const text of ['task-management-system-prompt-for-agents', 'gpt-4o-mini', 'claude-sonnet-4-5', 'risk-assessment-2024-final', 'sk-short', 'hello world']) {
      expect(scrubber.scrub(text)).toBe(text);
    }
  });

  it('collects every secret of the configuration', () => {
    const secrets = configuredSecrets({
      masterKey: 'master-key-1',
      providers: [{ apiKey: 'provider-key-1', apiKeys: [{ key: 'provider-key-1' }, { key: 'pool-key-2' }] }, {}],
      storage: { postgresUrl: 'postgres://user:db%2Fpassword@localhost/db' },
      state: { redisUrl: 'redis://:redis-password@localhost:6379' },
    });
    expect(new Set(secrets)).toEqual(new Set(['master-key-1', 'provider-key-1', 'pool-key-2', 'db/password', 'redis-password']));
  });

  it('scrubs every GatewayError message, code and param when it is made', () => {
    processScrubber.add(['unit-test-configured-secret']);
    const error = new GatewayError('leaked unit-test-configured-secret', { status: 400, code: 'unit-test-configured-secret', param: 'unit-test-configured-secret' });
    expect(error.toBody().error).toMatchObject({ message: 'leaked [REDACTED]', code: '[REDACTED]', param: '[REDACTED]' });
    const echoed = upstreamHttpError(
      'openai',
      401,
      {},
      JSON.stringify({ error: { message: `Incorrect API key provided: sk-${'k'.repeat(40)}.`, type: 'invalid_request_error', code: 'invalid_api_key' } }),
    );
    expect(echoed.message).toBe('openai: Incorrect API key provided: [REDACTED].');
  });

  it('scrubs whole log lines, serialised errors included', () => {
    const lines: string[] = [];
    const scrubber = createSecretScrubber(['log-line-secret-9']);
    const logger = pino({ level: 'info' }, createScrubbingDestination(scrubber, { write: (line: string) => lines.push(line) }));
    logger.error({ err: new Error('failed with log-line-secret-9'), reason: 'log-line-secret-9' }, 'x log-line-secret-9');
    expect(lines.join('')).not.toContain('log-line-secret-9');
    expect(lines.join('')).toContain('[REDACTED]');
  });
});

describe('minimal records', () => {
  it('stores a minimal audit row with the error when the full row cannot be built', async () => {
    const { safeAuditRow } = await import('../src/audit/audit-recorder.ts');
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let level = 0; level < 20_000; level++) {
      const next: Record<string, unknown> = {};
      cursor.a = next;
      cursor = next;
    }
    const failures: unknown[] = [];
    const row = safeAuditRow(
      {
        requestId: 'r1',
        endpoint: 'responses',
        provider: 'openai',
        providerType: 'openai',
        requestedModel: 'gpt-4o-mini',
        model: 'gpt-4o-mini',
        stream: false,
        status: 200,
        usage: null,
        startedAt: new Date(),
        latencyMs: 1,
        firstByteMs: null,
        error: null,
        keyId: null,
        cacheStatus: 'none',
        droppedParams: [],
        attempts: [],
        method: 'POST',
        path: '/v1/responses',
        requestBody: { input: [deep] },
      },
      { logBodies: true, logHeaders: false, maxBodyBytes: 1000, retentionDays: 0 },
      createSecretScrubber(),
      (error) => failures.push(error),
    );
    expect(failures).toHaveLength(1);
    expect(row).toMatchObject({ request_id: 'r1', status: 200, request_body: null, thread_key: null });
    expect(row.error_message).toMatch(/^audit record incomplete \(RangeError/);
  });
});
