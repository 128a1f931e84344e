/**
 * Guardrail decisions in /metrics (modelgate_guardrail_decisions_total{guardrail,action,phase}: block, mask,
 * flag, allow, system_prompt; a stream counts once per guardrail), and the usage of an `llm` guardrail's own
 * model calls: a usage row with endpoint `guardrail`, priced at the guardrail model's price, attributed to the
 * calling key and request. A workflow that switches usage off for the call switches it off for them too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'mg-guardrail-metrics';

// sim-verbatim answers with the last user message: the judge's verdict is the text the client sent.
const config = `
pricing:
  openai/sim-verbatim: { input: 1000, output: 2000 }
guardrails:
  enabled: true
  rules:
    - name: house-rules
      type: system_prompt
      content: Be brief.
    - name: no-zulu
      type: denylist
      words: [zulu]
    - name: soft-words
      type: denylist
      words: [darn]
      action: mask
    - name: xray-watch
      type: regex
      patterns: ['\\bxray\\b']
      action: flag
      phase: both
    - name: judge
      type: llm
      model: openai/sim-verbatim
      order: 1
workflows:
  - name: untracked
    scope: { team: untracked }
    usage: false
`;

let simulator: Simulator;
let running: RunningGateway;
let directory: string;

const headers = (key = masterKey) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

async function chat(content: string, options: { key?: string; stream?: boolean } = {}) {
  const response = await fetch(`${running.url}/v1/chat/completions`, {
    method: 'POST',
    headers: headers(options.key),
    body: JSON.stringify({ model: 'gpt-4o-mini', stream: options.stream ?? false, messages: [{ role: 'user', content }] }),
  });
  const text = await response.text();
  return { status: response.status, requestId: response.headers.get('x-request-id'), text };
}

async function decisions(): Promise<Record<string, number>> {
  const text = await (await fetch(`${running.url}/metrics`, { headers: headers() })).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^modelgate_guardrail_decisions_total\{([^}]*)\} (\d+)$/gm)) {
    const labels = Object.fromEntries([...(match[1] as string).matchAll(/(\w+)="([^"]*)"/g)].map((pair) => [pair[1], pair[2]]));
    counts[`${labels.guardrail}:${labels.action}:${labels.phase}`] = Number(match[2]);
  }
  return counts;
}

async function admin(method: string, path: string, body?: unknown) {
  const response = await fetch(`${running.url}/admin/api/v1${path}`, {
    method,
    headers: headers(),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return (await response.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'modelgate-guardrail-metrics-'));
  writeFileSync(join(directory, 'config.yaml'), config);
  simulator = await startOpenAISimulator({ apiKey: 'sk-guardrail-metrics' });
  running = await startGateway(
    {
      OPENAI_API_KEY: 'sk-guardrail-metrics',
      OPENAI_BASE_URL: simulator.baseUrl,
      MODELGATE_MASTER_KEY: masterKey,
      STORAGE_TYPE: 'sqlite',
      SQLITE_PATH: join(directory, 'modelgate.db'),
      STORAGE_SPILL_DIR: join(directory, 'spill'),
      LOGGING_ENABLED: 'true',
    },
    { cwd: directory },
  );
});

afterAll(async () => {
  await running?.close();
  await simulator?.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('guardrail decisions in /metrics', () => {
  it('counts block, mask, flag, allow and system_prompt by guardrail and phase; a stream once per guardrail', async () => {
    const before = await decisions();
    const delta = async () => {
      const after = await decisions();
      return Object.fromEntries(
        Object.entries(after)
          .map(([key, value]) => [key, value - (before[key] ?? 0)])
          .filter(([, value]) => value !== 0),
      );
    };
    expect((await chat('ALLOW about zulu')).status).toBe(400);
    expect(await delta()).toEqual({
      // The block of order 0 stops the call: the judge (order 1) never ran; its group's others allowed.
      'no-zulu:block:input': 1,
      'soft-words:allow:input': 1,
      'xray-watch:allow:input': 1,
    });
    for (const key of Object.keys(before)) delete before[key];
    Object.assign(before, await decisions());

    expect((await chat('ALLOW darn xray')).status).toBe(200);
    expect(await delta()).toMatchObject({
      'no-zulu:allow:input': 1,
      'soft-words:mask:input': 1,
      'xray-watch:flag:input': 1,
      'judge:allow:input': 1,
      'house-rules:system_prompt:input': 1,
      // The answer echoes the (masked) text back: the output check sees xray again.
      'xray-watch:flag:output': 1,
    });
    Object.assign(before, await decisions());

    const streamed = await chat('ALLOW a long streamed answer with many words in it to make several chunks', { stream: true });
    expect(streamed.status).toBe(200);
    expect((await delta())['xray-watch:allow:output']).toBe(1);
  });

  it('the guardrail label is a configured name; unknown text never becomes a label', async () => {
    const text = await (await fetch(`${running.url}/metrics`, { headers: headers() })).text();
    const names = new Set([...text.matchAll(/modelgate_guardrail_decisions_total\{[^}]*guardrail="([^"]*)"/g)].map((match) => match[1]));
    expect([...names].every((name) => ['house-rules', 'no-zulu', 'soft-words', 'xray-watch', 'judge'].includes(name as string))).toBe(true);
  });
});

describe("an llm guardrail's own usage", () => {
  it('is a usage row marked endpoint guardrail, priced, for the calling key and request', async () => {
    const key = (await admin('POST', '/keys', { name: 'judged', user: 'jo', team: 'judged' })) as { id: string; key: string };
    const call = await chat('ALLOW judge me', { key: key.key });
    expect(call.status).toBe(200);
    const rows = (await admin('GET', `/usage/log?key_id=${key.id}`)).data as Record<string, unknown>[];
    const guardrail = rows.filter((row) => row.endpoint === 'guardrail');
    const main = rows.filter((row) => row.endpoint === 'chat.completions');
    expect(main).toHaveLength(1);
    expect(guardrail).toHaveLength(1);
    expect(guardrail[0]).toMatchObject({
      request_id: call.requestId,
      model: 'sim-verbatim',
      provider: 'openai',
      user: 'jo',
      team: 'judged',
    });
    expect(guardrail[0]?.input_tokens as number).toBeGreaterThan(0);
    // 1000 USD per million input tokens and 2000 per million output: a few cents, counted.
    expect(guardrail[0]?.cost_usd as number).toBeGreaterThan(0);
    const summary = await admin('GET', `/usage/summary?key_id=${key.id}&endpoint=guardrail`);
    expect(summary.requests).toBe(1);
  });

  it('follows the calling call’s workflow: usage off records neither row', async () => {
    const key = (await admin('POST', '/keys', { name: 'untracked', team: 'untracked' })) as { id: string; key: string };
    expect((await chat('ALLOW do not track me', { key: key.key })).status).toBe(200);
    expect((await admin('GET', `/usage/log?key_id=${key.id}`)).data).toEqual([]);
    const audit = (await admin('GET', `/audit/log?key_id=${key.id}`)).data as Record<string, unknown>[];
    expect(audit.map((row) => row.endpoint).sort()).toEqual(['chat.completions', 'guardrail']);
  });
});
