/**
 * Usage and audit recorders over the real databases (SQLite file and PostgreSQL): pricing, capping,
 * retention, idempotent replays; plus the pure pieces (pricing table, redaction).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRow, createAuditRecorder, threadKey } from '../src/audit/audit-recorder.ts';
import { capText, redactHeaders, redactJson, redactUrl } from '../src/audit/redaction.ts';
import { createSecretScrubber } from '../src/security/secret-scrubber.ts';
import { type CallOutcome, createOutcomeBus } from '../src/core/outcome.ts';
import { createStorage, registerMigration, type Storage, type StorageMigration } from '../src/storage/database.ts';
import { candidateNames, computeCost, createPricingTable } from '../src/usage/pricing.ts';
import { createUsageRecorder, usageRow } from '../src/usage/usage-recorder.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';

function outcome(overrides: Partial<CallOutcome> = {}): CallOutcome {
  return {
    requestId: `req-${Math.random().toString(36).slice(2)}`,
    endpoint: 'chat.completions',
    provider: 'openai',
    providerType: 'openai',
    requestedModel: 'gpt-4o',
    model: 'gpt-4o',
    stream: false,
    status: 200,
    usage: { inputTokens: 1000, outputTokens: 500, totalTokens: 1500, cachedTokens: 200, reasoningTokens: 100, cacheWriteTokens: 0 },
    startedAt: new Date(),
    latencyMs: 12.3456,
    firstByteMs: null,
    error: null,
    keyId: 'master:abcd1234',
    cacheStatus: 'none',
    droppedParams: [],
    attempts: [],
    method: 'POST',
    path: '/v1/chat/completions',
    ...overrides,
  };
}

describe('pricing', () => {
  const pricing = createPricingTable({
    'my-local-model': { input: 1, output: 2 },
    'openai/gpt-4o': { output: 12 },
    'partial-only': { input: 3 },
  });

  it('computes cost with cached input at its own rate (OpenAI convention: cached is part of input)', () => {
    const usage = { inputTokens: 1000, outputTokens: 500, totalTokens: 1500, cachedTokens: 200, reasoningTokens: 100, cacheWriteTokens: 0 };
    // gpt-4o-mini: 0.15 input, 0.075 cached, 0.60 output per million.
    expect(pricing.costOf(usage, 'gpt-4o-mini')).toBeCloseTo((800 * 0.15 + 200 * 0.075 + 500 * 0.6) / 1e6, 15);
    // Anthropic cache writes at their own rate.
    const cacheWrite = { ...usage, cachedTokens: 100, cacheWriteTokens: 300 };
    expect(pricing.costOf(cacheWrite, 'claude-sonnet-4-5-20250929')).toBeCloseTo((600 * 3 + 100 * 0.3 + 300 * 3.75 + 500 * 15) / 1e6, 15);
  });

  it('finds dated, prefixed and -latest names and applies config overrides', () => {
    expect(candidateNames('openai/gpt-4o-mini-2024-07-18')).toContain('gpt-4o-mini');
    expect(pricing.priceOf('gpt-4o-mini-2024-07-18')).toMatchObject({ input: 0.15, output: 0.6 });
    expect(pricing.priceOf('claude-3-5-haiku-latest')).toMatchObject({ input: 0.8 });
    expect(pricing.priceOf('my-local-model')).toEqual({ input: 1, output: 2 });
    // A partial override is merged with the shipped price, by provider instance.
    expect(pricing.priceOf('gpt-4o', 'openai')).toMatchObject({ input: 2.5, output: 12, cachedInput: 1.25 });
    expect(pricing.priceOf('gpt-4o', 'azure')).toMatchObject({ output: 10 });
  });

  it('leaves unknown models unpriced: null, never zero', () => {
    const usage = { inputTokens: 10, outputTokens: 10, totalTokens: 20, cachedTokens: 0, reasoningTokens: 0, cacheWriteTokens: 0 };
    expect(pricing.costOf(usage, 'no-such-model')).toBeNull();
    expect(pricing.costOf(usage, 'partial-only')).toBeNull();
    expect(pricing.costOf(null, 'gpt-4o')).toBe(0);
    const row = usageRow(outcome({ model: 'no-such-model' }), pricing);
    expect(row).toMatchObject({ cost_usd: null, priced: 0 });
    // Time-ordered ids (src/storage/record-id.ts): cheaper inserts than random ones.
    expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(computeCost(usage, { input: 0, output: 0 })).toBe(0);
  });
});

describe('redaction', () => {
  it('redacts credential headers whatever their case', () => {
    expect(
      redactHeaders({
        Authorization: 'Bearer x',
        'x-api-key': 'a',
        'X-Goog-Api-Key': 'b',
        'api-key': 'c',
        cookie: 'd',
        'set-cookie': 'e',
        'proxy-authorization': 'f',
        'x-my-secret': 'g',
        'content-type': 'application/json',
      }),
    ).toEqual({
      Authorization: '[REDACTED]',
      'x-api-key': '[REDACTED]',
      'X-Goog-Api-Key': '[REDACTED]',
      'api-key': '[REDACTED]',
      cookie: '[REDACTED]',
      'set-cookie': '[REDACTED]',
      'proxy-authorization': '[REDACTED]',
      'x-my-secret': '[REDACTED]',
      'content-type': 'application/json',
    });
  });

  it('redacts key= and other credential query parameters', () => {
    expect(redactUrl('/v1beta/models/gemini-2.5-flash:generateContent?key=AIzaSECRET&alt=sse')).toBe(
      '/v1beta/models/gemini-2.5-flash:generateContent?key=[REDACTED]&alt=sse',
    );
    expect(redactUrl('/x?api-version=2024-10-21&api_key=s&Key=t')).toBe('/x?api-version=2024-10-21&api_key=[REDACTED]&Key=[REDACTED]');
    expect(redactUrl('/v1/chat/completions')).toBe('/v1/chat/completions');
  });

  it('redacts credential fields in bodies but keeps token counts', () => {
    expect(redactJson({ api_key: 's', nested: [{ password: 'p', max_tokens: 5 }], input: 'hi' })).toEqual({
      api_key: '[REDACTED]',
      nested: [{ password: '[REDACTED]', max_tokens: 5 }],
      input: 'hi',
    });
  });

  it('scrubs configured secrets anywhere, including JSON-escaped', () => {
    const scrubber = createSecretScrubber(['sk-abc"def123', undefined, 'short']);
    expect(scrubber.scrub(JSON.stringify({ text: 'key sk-abc"def123 here' }))).toBe('{"text":"key [REDACTED] here"}');
    expect(scrubber.scrub('short stays')).toBe('short stays');
  });

  it('caps text at a byte size without splitting a character', () => {
    expect(capText('héllo', 2)).toEqual({ text: 'h', truncated: true });
    expect(capText('hello', 10)).toEqual({ text: 'hello', truncated: false });
  });

  it('keys conversation threads by their opening messages', () => {
    const opening = [
      { role: 'system', content: 's' },
      { role: 'user', content: 'u' },
    ];
    const first = threadKey({ messages: opening });
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(threadKey({ messages: [...opening, { role: 'assistant', content: 'a' }, { role: 'user', content: 'next' }] })).toBe(first);
    expect(threadKey({ messages: [{ role: 'user', content: 'other' }] })).not.toBe(first);
    expect(threadKey({ input: 'hello' })).toMatch(/^[0-9a-f]{32}$/);
    expect(threadKey(undefined)).toBeNull();
  });
});

const extraMigration: StorageMigration = {
  name: '20261125-90-test-extra-table',
  up: async (db) => {
    await db.schema
      .createTable('test_extra')
      .ifNotExists()
      .addColumn('id', 'varchar(64)', (column) => column.primaryKey())
      .execute();
  },
};

describe.each(['sqlite', 'postgresql'] as const)('recorders on %s', (backendName) => {
  let backend: StorageBackend;
  let storage: Storage;

  beforeAll(async () => {
    backend = createBackend(backendName);
    registerMigration(extraMigration);
    storage = await createStorage(backend.settings);
  });

  afterAll(async () => {
    await storage?.close();
    await backend?.cleanup();
  });

  it('runs registered migrations from other modules', async () => {
    const db = storage.db.withTables<{ test_extra: { id: string } }>();
    await db.insertInto('test_extra').values({ id: 'x' }).execute();
    expect(await db.selectFrom('test_extra').selectAll().execute()).toEqual([{ id: 'x' }]);
  });

  it('writes usage rows with exact numbers, and a replayed row is written once', async () => {
    const bus = createOutcomeBus();
    const recorder = createUsageRecorder({
      bus,
      storage,
      pricing: createPricingTable(),
      spillDir: backend.spillDir,
      flushIntervalMs: 3_600_000,
    });
    const call = outcome({ model: 'gpt-4o-mini', requestId: 'usage-exact' });
    bus.emit(call);
    await recorder.writer.flush();
    const rows = await storage.db.selectFrom('usage').selectAll().where('request_id', '=', 'usage-exact').execute();
    expect(rows).toHaveLength(1);
    const row = rows[0];
    expect(Number(row?.input_tokens)).toBe(1000);
    expect(Number(row?.cached_tokens)).toBe(200);
    expect(Number(row?.reasoning_tokens)).toBe(100);
    expect(Number(row?.cost_usd)).toBeCloseTo((800 * 0.15 + 200 * 0.075 + 500 * 0.6) / 1e6, 15);
    expect(Number(row?.latency_ms)).toBe(12.346);
    // The same row again (a spill file replayed after a crash) is ignored.
    await storage.db
      .insertInto('usage')
      .values(row as never)
      .onConflict((conflict) => conflict.column('id').doNothing())
      .execute();
    const again = await storage.db
      .selectFrom('usage')
      .select((eb) => eb.fn.countAll().as('count'))
      .where('request_id', '=', 'usage-exact')
      .executeTakeFirst();
    expect(Number(again?.count)).toBe(1);
    await recorder.close();
  });

  it('caps bodies, scrubs secrets and deletes audit rows past the retention period', async () => {
    const bus = createOutcomeBus();
    const recorder = createAuditRecorder({
      bus,
      storage,
      settings: { logBodies: true, logHeaders: true, maxBodyBytes: 200, retentionDays: 7 },
      secrets: ['sk-secret-upstream-123'],
      spillDir: backend.spillDir,
      flushIntervalMs: 3_600_000,
    });
    expect(bus.captureBodies).toBe(true);
    expect(bus.captureHeaders).toBe(true);
    const old = new Date(Date.now() - 8 * 86_400_000);
    bus.emit(outcome({ requestId: 'audit-old', startedAt: old }));
    bus.emit(
      outcome({
        requestId: 'audit-big',
        requestBody: { model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(1000) }] },
        responseBody: { ok: true },
        requestHeaders: { authorization: 'Bearer whatever', 'x-trace': 't' },
        status: 401,
        error: { code: 'invalid_api_key', message: 'Incorrect API key provided: sk-secret-upstream-123' },
      }),
    );
    await recorder.writer.flush();
    const big = await storage.db.selectFrom('audit_log').selectAll().where('request_id', '=', 'audit-big').executeTakeFirstOrThrow();
    expect(Buffer.byteLength(big.request_body ?? '')).toBeLessThanOrEqual(200);
    expect(Number(big.body_truncated)).toBe(1);
    expect(big.response_body).toBe('{"ok":true}');
    expect(JSON.parse(big.request_headers ?? '{}')).toEqual({ authorization: '[REDACTED]', 'x-trace': 't' });
    expect(big.error_message).toBe('Incorrect API key provided: [REDACTED]');

    expect(await recorder.sweep()).toBe(1);
    const left = await storage.db
      .selectFrom('audit_log')
      .select('request_id')
      .where('request_id', 'in', ['audit-old', 'audit-big'])
      .execute();
    expect(left.map((item) => item.request_id)).toEqual(['audit-big']);
    await recorder.close();
  });

  it('keeps records while the database is unreachable and writes them at the next start', async () => {
    const unreachable = await createStorage(backend.settings);
    await unreachable.close(); // every write now fails
    const bus = createOutcomeBus();
    const errors: unknown[] = [];
    const down = createUsageRecorder({
      bus,
      storage: unreachable,
      pricing: createPricingTable(),
      spillDir: backend.spillDir,
      maxBatch: 5,
      maxQueue: 5,
      flushIntervalMs: 3_600_000,
      onError: (error) => errors.push(error),
    });
    for (let index = 0; index < 12; index++) bus.emit(outcome({ requestId: `outage-${index}` }));
    await expect(down.writer.flush()).rejects.toThrow();
    await down.close();
    expect(errors.length).toBeGreaterThan(0);
    expect(down.writer.stats().spilled).toBe(12);

    const up = createUsageRecorder({
      bus: createOutcomeBus(),
      storage,
      pricing: createPricingTable(),
      spillDir: backend.spillDir,
      flushIntervalMs: 3_600_000,
    });
    await up.writer.flush();
    const rows = await storage.db.selectFrom('usage').select('request_id').where('request_id', 'like', 'outage-%').execute();
    expect(rows.map((row) => row.request_id).sort()).toEqual(Array.from({ length: 12 }, (_unused, index) => `outage-${index}`).sort());
    await up.close();
  });

  it('stores no headers or bodies unless asked to', () => {
    const row = auditRow(
      outcome({ requestBody: { a: 1 }, requestHeaders: { authorization: 'Bearer x' } }),
      { logBodies: false, logHeaders: false, maxBodyBytes: 100, retentionDays: 1 },
      createSecretScrubber([]),
    );
    expect(row).toMatchObject({ request_body: null, response_body: null, request_headers: null, response_headers: null });
    expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
