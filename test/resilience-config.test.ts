/** Configuration of retries, fallbacks, breakers and key pools; the upstream wait headers. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.ts';
import { parseDuration } from '../src/routing/resilience-config.ts';
import { retryAfterMs } from '../src/routing/retry-after.ts';

function withYaml(text: string): string {
  const directory = mkdtempSync(join(tmpdir(), 'modelgate-resilience-'));
  writeFileSync(join(directory, 'config.yaml'), text);
  return directory;
}

describe('resilience configuration', () => {
  it('has GoModel defaults', () => {
    const { resilience } = loadConfig({}, '/nonexistent');
    expect(resilience.retry).toMatchObject({ maxRetries: 3, initialBackoffMs: 1000, maxBackoffMs: 30_000, backoffFactor: 2, jitterFactor: 0.1 });
    expect(resilience.breaker).toEqual({ failureThreshold: 5, successThreshold: 2, timeoutMs: 30_000 });
    expect(resilience.fallbacks).toEqual({});
  });

  it('reads Go durations and plain seconds, and names the key of a bad value', () => {
    expect(parseDuration('x', '1m30s')).toBe(90_000);
    expect(parseDuration('x', '250ms')).toBe(250);
    expect(parseDuration('x', '2')).toBe(2000);
    expect(() => loadConfig({ RETRY_INITIAL_BACKOFF: 'soon' }, '/nonexistent')).toThrow(/RETRY_INITIAL_BACKOFF/);
    expect(() => loadConfig({ RETRY_MAX_RETRIES: '-1' }, '/nonexistent')).toThrow(/RETRY_MAX_RETRIES/);
    expect(() => loadConfig({ RETRY_JITTER_FACTOR: '2' }, '/nonexistent')).toThrow(/RETRY_JITTER_FACTOR/);
    expect(() => loadConfig({ RETRY_MAX_BACKOFF: '100ms' }, '/nonexistent')).toThrow(/RETRY_MAX_BACKOFF/);
    expect(() => loadConfig({ MODEL_FALLBACKS: '{"a":"b"}' }, '/nonexistent')).toThrow(/MODEL_FALLBACKS/);
    expect(() => loadConfig({ MODEL_FALLBACKS: 'a=b' }, '/nonexistent')).toThrow(/MODEL_FALLBACKS: not valid JSON/);
  });

  it('takes config.yaml sections, environment winning, and per-provider breaker overrides', () => {
    const directory = withYaml(`
retry: { max_retries: 5, initial_backoff: 200ms }
circuit_breaker: { failure_threshold: 10 }
fallbacks:
  openai/gpt-4o: [groq/llama-3.3-70b-versatile]
providers:
  openai:
    type: openai
    api_keys: [{ key: sk-a, weight: 3 }, sk-b]
    circuit_breaker: { timeout: 5s }
`);
    const config = loadConfig({ RETRY_MAX_RETRIES: '1', MODEL_FALLBACKS: '{"x":["y"]}' }, directory);
    expect(config.resilience.retry).toMatchObject({ maxRetries: 1, initialBackoffMs: 200 });
    expect(config.resilience.fallbacks).toEqual({ 'openai/gpt-4o': ['groq/llama-3.3-70b-versatile'], x: ['y'] });
    expect(config.resilience.providerBreakers.openai).toEqual({ failureThreshold: 10, successThreshold: 2, timeoutMs: 5000 });
    const openai = config.providers.find((provider) => provider.name === 'openai');
    expect(openai?.apiKey).toBe('sk-a');
    expect(openai?.apiKeys).toEqual([
      { key: 'sk-a', weight: 3 },
      { key: 'sk-b', weight: 1 },
    ]);
    expect(() => loadConfig({}, withYaml('retry: { retries: 3 }\n'))).toThrow(/retry/);
  });

  it('splits a comma-separated key into a pool; one key stays a plain key', () => {
    const pooled = loadConfig({ OPENAI_API_KEY: 'sk-1, sk-2' }, '/nonexistent').providers[0];
    expect(pooled).toMatchObject({ apiKey: 'sk-1', apiKeys: [{ key: 'sk-1', weight: 1 }, { key: 'sk-2', weight: 1 }] });
    const single = loadConfig({ OPENAI_API_KEY: 'sk-1' }, '/nonexistent').providers[0];
    expect(single?.apiKey).toBe('sk-1');
    expect(single?.apiKeys).toBeUndefined();
  });
});

describe('upstream wait headers', () => {
  it('prefers retry-after-ms, then Retry-After (seconds or date), then the exhausted x-ratelimit-reset', () => {
    expect(retryAfterMs({ 'retry-after-ms': '150', 'retry-after': '9' })).toBe(150);
    expect(retryAfterMs({ 'retry-after': '3' })).toBe(3000);
    expect(retryAfterMs({ 'retry-after': 'Wed, 02 Dec 2026 08:00:10 GMT' }, Date.parse('Wed, 02 Dec 2026 08:00:00 GMT'))).toBe(10_000);
    expect(retryAfterMs({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1m2s', 'x-ratelimit-remaining-tokens': '50', 'x-ratelimit-reset-tokens': '9m' })).toBe(62_000);
    expect(retryAfterMs({ 'x-ratelimit-reset-tokens': '20ms' })).toBe(20);
    expect(retryAfterMs({ 'retry-after': 'soon' })).toBeUndefined();
    expect(retryAfterMs({})).toBeUndefined();
  });
});
