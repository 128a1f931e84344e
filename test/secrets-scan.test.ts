/**
 * Secrets scan: the real gateway process (`node src/main.ts`) with a master key, a provider key and a
 * key pool, put through hostile cases (an upstream that echoes its key in a 401, on a call and on the
 * model list; keys sent as the model; keys in request headers; an unconfigured provider-shaped key
 * as the model; the same echo through the passthrough `/p/openai/...`), then every place a secret could
 * leave by is searched for each secret: the client responses, everything the process logged, every table
 * of the database, and /metrics.
 * Upstream error format (echoed key): https://platform.openai.com/docs/guides/error-codes
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, startGatewayProcess } from './helpers/gateway-process.ts';
import { type HostileUpstream, startHostileUpstream } from './simulators/hostile-upstream.ts';

// Not shaped like any known key: only the configured-secret part of the scrubber can find these.
const masterKey = 'master-secret-Q7w9e2r4t6y8';
const providerKey = 'provider-secret-A1b2C3d4E5f6';
const poolKeys = ['pool-secret-one-111aaa', 'pool-secret-two-222bbb'];
const echoedKey = 'echoed-secret-Zq8Xw7Cv6';
// Shaped like keys, configured nowhere: the key-shape part must mask them.
const strayOpenAiKey = `sk-proj-${'Zx9'.repeat(16)}`;
const strayManagedKey = `mg-${'Ab3_'.repeat(11)}`;
const secrets = [masterKey, providerKey, ...poolKeys, echoedKey, strayOpenAiKey, strayManagedKey];

let upstream: HostileUpstream;
let poolUpstream: HostileUpstream;
let gateway: GatewayProcess;
let baseUrl = '';
let sqlitePath = '';
const responses: string[] = [];

async function call(
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
  path = '/v1/chat/completions',
): Promise<{ status: number; text: string }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = `${JSON.stringify([...response.headers])}\n${await response.text()}`;
  responses.push(text);
  return { status: response.status, text };
}

beforeAll(async () => {
  upstream = await startHostileUpstream({ hugeBytes: 1024 });
  poolUpstream = await startHostileUpstream({ hugeBytes: 1024, echoKeyOnModels: true });
  const directory = mkdtempSync(join(tmpdir(), 'modelgate-secrets-'));
  sqlitePath = join(directory, 'modelgate.db');
  gateway = startGatewayProcess({
    MODELGATE_MASTER_KEY: masterKey,
    OPENAI_API_KEY: providerKey,
    OPENAI_BASE_URL: upstream.baseUrl,
    OPENAI_POOL_API_KEY: poolKeys.join(','),
    OPENAI_POOL_BASE_URL: poolUpstream.baseUrl,
    // One key, no pool to hide the echo: the model-list failure log gets the upstream's message.
    OPENAI_ECHO_API_KEY: echoedKey,
    OPENAI_ECHO_BASE_URL: poolUpstream.baseUrl,
    SQLITE_PATH: sqlitePath,
    LOGGING_ENABLED: 'true',
    LOGGING_LOG_BODIES: 'true',
    LOGGING_LOG_HEADERS: 'true',
    LOG_LEVEL: 'debug',
    RETRY_MAX_RETRIES: '0',
    ENABLED_PASSTHROUGH_PROVIDERS: 'openai',
  });
  baseUrl = await gateway.ready();
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await upstream?.close();
  await poolUpstream?.close();
});

describe('secrets never leave the process', () => {
  it('masks the key an upstream echoes in its error', async () => {
    const answer = await call({ model: 'fault-echo-key', messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.status).toBe(401);
    expect(answer.text).toContain('Incorrect API key provided: [REDACTED]');
  });

  it('masks the key an upstream echoes in its error through the passthrough, in the provider\'s own body', async () => {
    const answer = await call({ model: 'fault-echo-key', messages: [{ role: 'user', content: 'hi' }] }, {}, '/p/openai/v1/chat/completions');
    expect(answer.status).toBe(401);
    expect(answer.text).not.toContain(providerKey);
    const body = JSON.parse(answer.text.slice(answer.text.indexOf('\n') + 1)) as { error: { message: string; code: string } };
    // The upstream's own error, scrubbed: its code and the rest of its message stay.
    expect(body.error.code).toBe('invalid_api_key');
    expect(body.error.message).toMatch(/^Incorrect API key provided: \[REDACTED\]\. You can find your API key/);
    // The length the client is told is the scrubbed body's.
    const headers = new Map(JSON.parse(answer.text.slice(0, answer.text.indexOf('\n'))) as [string, string][]);
    expect(Number(headers.get('content-length'))).toBe(Buffer.byteLength(answer.text.slice(answer.text.indexOf('\n') + 1)));
  });

  it('masks keys sent as the model', async () => {
    for (const model of [masterKey, providerKey, strayOpenAiKey, strayManagedKey]) {
      const answer = await call({ model, messages: [{ role: 'user', content: 'hi' }] });
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.text).not.toContain(model);
    }
    const streamed = await call({ model: masterKey, stream: true, messages: [{ role: 'user', content: 'hi' }] });
    expect(streamed.text).not.toContain(masterKey);
  });

  it('keeps keys in request headers and bodies out of the records', async () => {
    const answer = await call(
      {
        model: 'gpt-4o-mini',
        messages: [
          { role: 'system', content: `the key is ${providerKey}` },
          { role: 'user', content: 'hi' },
        ],
        user: masterKey,
      },
      { 'x-forwarded-note': masterKey, 'x-custom': `Bearer ${poolKeys[0]}`, 'x-stray': strayOpenAiKey },
    );
    expect(answer.status).toBe(200);
  });

  it('finds no secret in responses, logs, database tables or /metrics', async () => {
    const metrics = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${masterKey}` } });
    expect(metrics.status).toBe(200);
    const metricsText = await metrics.text();
    // SIGTERM flushes every pending record before the process exits.
    await gateway.stop();
    const logs = gateway.output();
    expect(logs).toContain('could not list models');
    expect(logs).toContain('[REDACTED]');
    const database = new Database(sqlitePath, { readonly: true });
    const tables = database.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[];
    const dump = tables.map(({ name }) => JSON.stringify(database.prepare(`select * from "${name}"`).all())).join('\n');
    const auditRows = database.prepare('select count(*) as count from audit_log').get() as { count: number };
    const usageRows = database.prepare('select count(*) as count from usage').get() as { count: number };
    database.close();
    expect(auditRows.count).toBeGreaterThanOrEqual(7);
    expect(usageRows.count).toBeGreaterThanOrEqual(7);
    expect(dump).toContain('[REDACTED]');
    const places = { responses: responses.join('\n'), logs, database: dump, metrics: metricsText };
    for (const [place, text] of Object.entries(places)) {
      for (const secret of secrets) expect(text.includes(secret), `${secret} in ${place}`).toBe(false);
    }
  }, 30_000);
});
