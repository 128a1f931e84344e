/** Configuration: env first, config.yaml with ${VAR:-default}, env wins, errors name the key. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSize } from '../src/config/config-values.ts';
import { ConfigError, loadConfig } from '../src/config/load-config.ts';

function withYaml(text: string): string {
  const directory = mkdtempSync(join(tmpdir(), 'modelgate-config-'));
  writeFileSync(join(directory, 'config.yaml'), text);
  return directory;
}

function expectConfigError(run: () => unknown, key: string): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(key);
    return;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has sane defaults', () => {
    const config = loadConfig({}, '/nonexistent');
    expect(config).toMatchObject({ port: 8080, host: '127.0.0.1', bodyLimitBytes: 10 * 1024 * 1024, providers: [] });
    expect(config.storage).toMatchObject({ type: 'sqlite', sqlitePath: 'data/modelgate.db' });
    expect(config.upstream).toEqual({
      headersTimeoutMs: 600_000,
      bodyTimeoutMs: 600_000,
      connectTimeoutMs: 10_000,
      maxResponseBytes: 64 * 1024 * 1024,
      maxEventBytes: 16 * 1024 * 1024,
      totalTimeoutMs: 3_600_000,
    });
  });

  it('reads the upstream limits from the environment and config.yaml', () => {
    const fromEnv = loadConfig(
      { UPSTREAM_MAX_RESPONSE_BYTES: '8MB', UPSTREAM_MAX_EVENT_BYTES: '65536', UPSTREAM_TOTAL_TIMEOUT_MS: '120000' },
      '/nonexistent',
    );
    expect(fromEnv.upstream).toMatchObject({ maxResponseBytes: 8 * 1024 * 1024, maxEventBytes: 65_536, totalTimeoutMs: 120_000 });
    const fromYaml = loadConfig({}, withYaml('upstream:\n  max_response_bytes: 1MB\n  max_event_bytes: 512KB\n  total_timeout_ms: 5000\n'));
    expect(fromYaml.upstream).toMatchObject({ maxResponseBytes: 1024 * 1024, maxEventBytes: 512 * 1024, totalTimeoutMs: 5000 });
    expectConfigError(() => loadConfig({ UPSTREAM_MAX_RESPONSE_BYTES: 'huge' }, '/nonexistent'), 'UPSTREAM_MAX_RESPONSE_BYTES');
    expectConfigError(() => loadConfig({ UPSTREAM_MAX_EVENT_BYTES: '0' }, '/nonexistent'), 'UPSTREAM_MAX_EVENT_BYTES');
    expectConfigError(() => loadConfig({ UPSTREAM_TOTAL_TIMEOUT_MS: 'soon' }, '/nonexistent'), 'UPSTREAM_TOTAL_TIMEOUT_MS');
  });

  it('binds to all interfaces only with a master key or an explicit opt-out', () => {
    expect(loadConfig({ MODELGATE_MASTER_KEY: 'k' }, '/nonexistent').host).toBe('0.0.0.0');
    expectConfigError(() => loadConfig({ HOST: '0.0.0.0' }, '/nonexistent'), 'HOST');
    expect(loadConfig({ HOST: '0.0.0.0', MODELGATE_ALLOW_UNAUTHENTICATED: 'true' }, '/nonexistent').host).toBe('0.0.0.0');
    expect(loadConfig({ HOST: '::1' }, '/nonexistent').host).toBe('::1');
  });

  it('reads config.yaml, expands ${VAR} and ${VAR:-default}, and lets the environment win', () => {
    const directory = withYaml(`
server:
  port: 9000
  master_key: \${GATEWAY_KEY}
  body_size_limit: 1MB
providers:
  local:
    type: openai
    base_url: \${LOCAL_URL:-http://127.0.0.1:8000/v1}
    api_key: none
    models: [a, b]
  openai:
    type: openai
    api_key: from-yaml
pricing:
  local/a: { input: 1.5, output: 2 }
`);
    const config = loadConfig({ GATEWAY_KEY: 'secret', PORT: '9100', OPENAI_API_KEY: 'from-env' }, directory);
    expect(config.port).toBe(9100);
    expect(config.masterKey).toBe('secret');
    expect(config.bodyLimitBytes).toBe(1024 * 1024);
    expect(config.providers.find((provider) => provider.name === 'local')).toMatchObject({
      baseUrl: 'http://127.0.0.1:8000/v1',
      models: ['a', 'b'],
    });
    expect(config.providers.find((provider) => provider.name === 'openai')?.apiKey).toBe('from-env');
    expect(config.pricing['local/a']).toEqual({ input: 1.5, output: 2 });
  });

  it('names the key of invalid settings', () => {
    expectConfigError(() => loadConfig({ PORT: 'eighty' }, '/nonexistent'), 'PORT');
    expectConfigError(() => loadConfig({ BODY_SIZE_LIMIT: 'lots' }, '/nonexistent'), 'BODY_SIZE_LIMIT');
    expectConfigError(() => loadConfig({ STORAGE_TYPE: 'mongo' }, '/nonexistent'), 'STORAGE_TYPE');
    expectConfigError(() => loadConfig({ STORAGE_TYPE: 'postgresql' }, '/nonexistent'), 'POSTGRES_URL');
    expectConfigError(() => loadConfig({ LOGGING_ENABLED: 'maybe' }, '/nonexistent'), 'LOGGING_ENABLED');
    expectConfigError(() => loadConfig({ OPENAI_API_KEY: 'k', OPENAI_BASE_URL: 'ftp://x' }, '/nonexistent'), 'openai.base_url');
    expectConfigError(() => loadConfig({ MODELGATE_CONFIG: '/no/such/file.yaml' }, '/nonexistent'), 'MODELGATE_CONFIG');
    expectConfigError(() => loadConfig({}, withYaml('server:\n  prot: 1\n')), 'server');
    expectConfigError(() => loadConfig({}, withYaml('providers:\n  x:\n    type: nonsense\n')), 'providers.x.type');
    expectConfigError(() => loadConfig({}, withYaml('server: [unclosed\n')), 'config.yaml');
  });

  it('declares providers from the environment, named instances included', () => {
    const config = loadConfig(
      {
        GROQ_API_KEY: 'g',
        AZURE_OPENAI_API_KEY: 'az',
        AZURE_OPENAI_ENDPOINT: 'https://res.openai.azure.com',
        AZURE_API_VERSION: '2025-01-01-preview',
        OPENAI_EU_API_KEY: 'eu',
        OPENAI_EU_BASE_URL: 'https://eu.example/v1',
        OLLAMA_GPU_BASE_URL: 'http://gpu:11434/v1',
        ORACLE_MODELS: 'x,y',
        ORACLE_API_KEY: 'o',
        ORACLE_BASE_URL: 'https://oci.example/v1',
        OPENROUTER_API_KEY: 'or',
        OPENROUTER_SITE_URL: 'https://site',
        OPENROUTER_APP_NAME: 'App',
      },
      '/nonexistent',
    );
    const byName = Object.fromEntries(config.providers.map((provider) => [provider.name, provider]));
    expect(byName.groq).toMatchObject({ type: 'groq', apiKey: 'g' });
    expect(byName.azure).toMatchObject({
      type: 'azure',
      apiKey: 'az',
      baseUrl: 'https://res.openai.azure.com',
      apiVersion: '2025-01-01-preview',
    });
    expect(byName['openai-eu']).toMatchObject({ type: 'openai', apiKey: 'eu', baseUrl: 'https://eu.example/v1' });
    expect(byName['ollama-gpu']).toMatchObject({ type: 'ollama', baseUrl: 'http://gpu:11434/v1' });
    expect(byName.oracle).toMatchObject({ models: ['x', 'y'] });
    expect(byName.openrouter?.headers).toEqual({ 'HTTP-Referer': 'https://site', 'X-Title': 'App' });
  });

  it('parses sizes', () => {
    expect(parseSize('k', '512KB')).toBe(524_288);
    expect(parseSize('k', '10mb')).toBe(10_485_760);
    expect(parseSize('k', '1234')).toBe(1234);
    expect(() => parseSize('k', '0')).toThrow(ConfigError);
  });
});
