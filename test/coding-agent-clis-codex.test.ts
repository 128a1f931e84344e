/**
 * The real Codex CLI (`codex exec`, npm @openai/codex pinned in test/agents/package.json and installed by
 * scripts/agents.sh) pointed at the gateway's /v1/responses through a custom model provider (config.toml in a
 * temporary CODEX_HOME, `wire_api = "responses"`), non-interactively, with no network: every upstream is a
 * simulator (OpenAI Responses streaming in openai-responses-simulator.ts, Anthropic Messages streaming in
 * anthropic-simulator.ts, Gemini in gemini-simulator.ts; each cites the reference it follows), and the
 * CLI's HTTP(S) proxy is an outbound trap that must see no attempt (the config turns off Codex's update
 * check, analytics and plugin sync, which otherwise call github.com and chatgpt.com).
 *
 * Each run is a tool round trip: the prompt carries a `[[sim-tool exec_command {...}]]` directive
 * (scripted-tool-call.ts), so the simulator first answers with an exec_command call, Codex runs the shell
 * command in its workspace-write sandbox (`-s workspace-write`; `codex exec` never asks for approval), sends
 * the function_call_output back, and the simulator's final answer ("Tool said: <output>") is what it prints.
 *
 * - OpenAI model: gpt-5 on the native Responses API of the OpenAI simulator.
 * - Anthropic model: anthropic/claude-sonnet-4-5 through the Responses-to-Messages translation (Codex's
 *   namespace and web_search tools, client_metadata and prompt_cache_key reported as dropped).
 * - Gemini model: gemini/gemini-2.5-flash through the same translation.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentRun, runAgentCli } from './helpers/agent-cli.ts';
import {
  agentRunDirectories,
  anthropicToolRoundTrip,
  expectStreamedRecords,
  geminiToolRoundTrip,
  runDetail,
} from './helpers/agent-round-trips.ts';
import { waitForRows } from './helpers/gateway-records.ts';
import { type OutboundTrap, startOutboundTrap } from './helpers/outbound-trap.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type AnthropicSimulator, startAnthropicSimulator } from './simulators/anthropic-simulator.ts';
import { type GeminiSimulator, startGeminiSimulator } from './simulators/gemini-simulator.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

type Json = Record<string, unknown>;

const gatewayKey = 'mg-agents-codex-key';

let directory: string;
let trap: OutboundTrap;
let openai: Simulator;
let anthropic: AnthropicSimulator;
let gemini: GeminiSimulator;
let gateway: RunningGateway;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'modelgate-codex-'));
  trap = await startOutboundTrap();
  openai = await startOpenAISimulator({ apiKey: 'sk-openai-codex', models: ['gpt-5', 'gpt-4o-mini'] });
  anthropic = await startAnthropicSimulator({ apiKey: 'sk-ant-codex' });
  gemini = await startGeminiSimulator({ apiKey: 'AIza-codex' });
  gateway = await startGateway({
    MODELGATE_MASTER_KEY: gatewayKey,
    LOGGING_ENABLED: 'true',
    OPENAI_API_KEY: 'sk-openai-codex',
    OPENAI_BASE_URL: openai.baseUrl,
    ANTHROPIC_API_KEY: 'sk-ant-codex',
    ANTHROPIC_BASE_URL: anthropic.baseUrl,
    GEMINI_API_KEY: 'AIza-codex',
    GEMINI_BASE_URL: gemini.baseUrl,
    SQLITE_PATH: join(directory, 'gateway.db'),
  });
});

afterAll(async () => {
  await gateway?.close();
  await openai?.close();
  await anthropic?.close();
  await gemini?.close();
  await trap?.close();
  if (directory) rmSync(directory, { recursive: true, force: true });
});

/** The config.toml the README recommends, with the gateway as the model provider. */
function codexConfig(model: string): string {
  return [
    `model = "${model}"`,
    'model_provider = "modelgate"',
    'check_for_update_on_startup = false',
    '',
    '[model_providers.modelgate]',
    'name = "Modelgate"',
    `base_url = "${gateway.url}/v1"`,
    'env_key = "MODELGATE_API_KEY"',
    'wire_api = "responses"',
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[features]',
    'plugins = false',
    '',
  ].join('\n');
}

/** Runs `codex exec` in a fresh working directory and CODEX_HOME, asking it to write `note.txt` with a shell command. */
async function runCodex(model: string, name: string, key = gatewayKey) {
  const { workdir, home } = agentRunDirectories(directory, name);
  writeFileSync(join(home, 'config.toml'), codexConfig(model));
  const content = `written by codex (${name})`;
  const command = `printf '${content}' > note.txt && cat note.txt`;
  const prompt = `Write the note. [[sim-tool exec_command ${JSON.stringify({ cmd: command })}]]`;
  const run = await runAgentCli('codex', ['exec', '--skip-git-repo-check', '--strict-config', '-s', 'workspace-write', prompt], {
    cwd: workdir,
    home,
    proxyUrl: trap.url,
    env: { CODEX_HOME: home, MODELGATE_API_KEY: key },
  });
  return { run, file: join(workdir, 'note.txt'), content, command };
}

function expectSuccess(run: AgentRun, content: string): void {
  const detail = runDetail(run);
  expect(run.timedOut, detail).toBe(false);
  expect(run.code, detail).toBe(0);
  // The simulators' final answer quotes the tool output Codex sent back.
  expect(run.stdout.startsWith('Tool said: '), detail).toBe(true);
  expect(run.stdout, detail).toContain('Process exited with code 0');
  expect(run.stdout, detail).toContain(content);
  expect(trap.attempts).toEqual([]);
}

function expectRecords(provider: string, model: string): Promise<void> {
  return expectStreamedRecords({ url: gateway.url, key: gatewayKey }, { endpoint: 'responses', path: '/v1/responses', provider, model });
}

describe('Codex (codex exec) through the gateway', () => {
  it('runs a shell command on an OpenAI model (native Responses API)', { timeout: 180_000 }, async () => {
    const before = openai.requests.length;
    const { run, file, content, command } = await runCodex('gpt-5', 'openai');
    expectSuccess(run, content);
    expect(readFileSync(file, 'utf8')).toBe(content);

    const calls = openai.requests.slice(before).filter((request) => request.path === '/v1/responses');
    const withOutput = calls.find((request) => (request.body?.input as Json[] | undefined)?.at(-1)?.type === 'function_call_output');
    const input = (withOutput?.body?.input as Json[] | undefined) ?? [];
    const output = input.at(-1);
    const call = input.at(-2);
    expect(call).toMatchObject({ type: 'function_call', name: 'exec_command' });
    expect(JSON.parse(String(call?.arguments))).toEqual({ cmd: command });
    expect(output).toMatchObject({ type: 'function_call_output', call_id: call?.call_id });
    expect(String(output?.output)).toContain(content);
    expect(calls[0]?.headers.authorization).toBe('Bearer sk-openai-codex');
    for (const request of calls) expect(request.body).toMatchObject({ model: 'gpt-5', stream: true });
    await expectRecords('openai', 'gpt-5');
  });

  it('runs a shell command on an Anthropic model (Responses translated to Messages)', { timeout: 180_000 }, async () => {
    const before = anthropic.requests.length;
    const { run, file, content, command } = await runCodex('anthropic/claude-sonnet-4-5', 'anthropic');
    expectSuccess(run, content);
    expect(readFileSync(file, 'utf8')).toBe(content);

    const calls = anthropic.requests.slice(before).filter((request) => request.path === '/v1/messages');
    const { call, result } = anthropicToolRoundTrip(calls);
    expect(call).toMatchObject({ name: 'exec_command', input: { cmd: command } });
    expect(result).toMatchObject({ tool_use_id: call?.id });
    expect(JSON.stringify(result?.content)).toContain(content);
    for (const request of calls) {
      expect(request.body?.model).toBe('claude-sonnet-4-5');
      // Codex's Responses-only fields never reach Anthropic, which refuses unknown fields.
      expect(request.body).not.toHaveProperty('client_metadata');
      expect(request.body).not.toHaveProperty('prompt_cache_key');
    }
    await expectRecords('anthropic', 'claude-sonnet-4-5');
    const audit = await waitForRows(gateway.url, gatewayKey, 'audit', (row) => row.provider === 'anthropic', 2);
    for (const row of audit) expect(row.dropped_params).toEqual(expect.arrayContaining(['client_metadata', 'tools.web_search']));
  });

  it('runs a shell command on a Gemini model (Responses translated to Gemini)', { timeout: 180_000 }, async () => {
    const before = gemini.requests.length;
    const { run, file, content, command } = await runCodex('gemini/gemini-2.5-flash', 'gemini');
    expectSuccess(run, content);
    expect(readFileSync(file, 'utf8')).toBe(content);

    const calls = gemini.requests.slice(before).filter((request) => /:streamGenerateContent$/.test(request.path));
    const { call, response } = geminiToolRoundTrip(calls);
    expect(call?.functionCall).toMatchObject({ name: 'exec_command', args: { cmd: command } });
    expect(JSON.stringify(response?.functionResponse)).toContain(content);
    await expectRecords('gemini', 'gemini-2.5-flash');
  });
  it('gives up on a wrong gateway key with the 401 message, without calling the upstream', { timeout: 180_000 }, async () => {
    const before = openai.requests.length;
    const { run, file } = await runCodex('gpt-5', 'wrong-key', 'not-the-gateway-key');
    expect(run.timedOut).toBe(false);
    expect(run.code).toBe(1);
    // Codex 0.171 retries a failed stream 5 times whatever x-should-retry says, then reports the gateway's answer.
    expect(run.stderr).toContain('401 Unauthorized: Invalid API key');
    expect(existsSync(file)).toBe(false);
    expect(openai.requests.slice(before).filter((request) => request.path === '/v1/responses')).toEqual([]);
  });
});
