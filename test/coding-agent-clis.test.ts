/**
 * The real Claude Code CLI (`claude -p`, npm @anthropic-ai/claude-code pinned in test/agents/package.json and
 * installed by scripts/agents.sh) pointed at the gateway, non-interactively, with no network: every upstream
 * is a simulator (test/simulators, each citing the wire format it speaks: Anthropic Messages streaming in
 * anthropic-simulator.ts, OpenAI chat completions streaming in openai-simulator.ts, Gemini streamGenerateContent
 * in gemini-simulator.ts), and the CLI's HTTP(S) proxy is an outbound trap that must see no attempt.
 *
 * Each run is a tool round trip: the prompt carries a `[[sim-tool Write {...}]]` directive
 * (scripted-tool-call.ts), so the simulator first answers with a Write tool call, Claude Code writes the file
 * in its temporary working directory (allowed by `--permission-mode acceptEdits`, no prompt), sends the tool
 * result back, and the simulator's final answer ("Tool said: <result>") is what `claude -p` prints.
 *
 * - Anthropic model: Claude Code's default model (claude-opus-5-5), listed by the Anthropic simulator.
 * - OpenAI model: the same default and haiku ids aliased to openai/gpt-4o-mini (MODEL_ALIASES), through the
 *   /v1/messages translation (max_tokens 128000 clamped to gpt-4o-mini's 16384, thinking not sent).
 * - Gemini model: chosen with ANTHROPIC_MODEL=gemini/gemini-2.5-flash, the gateway key in ANTHROPIC_AUTH_TOKEN
 *   (sent as Authorization: Bearer) instead of ANTHROPIC_API_KEY (x-api-key).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentRun, runAgentCli } from './helpers/agent-cli.ts';
import {
  agentRunDirectories,
  anthropicToolRoundTrip,
  chatToolRoundTrip,
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

const gatewayKey = 'mg-agents-claude-key';
/** The ids Claude Code 2.1 asks for: its default model and the haiku ones it uses for small tasks. */
const claudeIds = ['claude-opus-5-5', 'claude-haiku-5-5', 'claude-haiku-4-5', 'claude-haiku-4-5-20251001'];

let directory: string;
let trap: OutboundTrap;
let anthropic: AnthropicSimulator;
let openai: Simulator;
let gemini: GeminiSimulator;
/** Anthropic and Gemini behind it, model names as Claude Code sends them. */
let native: RunningGateway;
/** Claude Code's model ids aliased to an OpenAI model. */
let aliased: RunningGateway;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'modelgate-claude-code-'));
  trap = await startOutboundTrap();
  anthropic = await startAnthropicSimulator({ apiKey: 'sk-ant-agents', models: ['claude-sonnet-4-5', ...claudeIds] });
  openai = await startOpenAISimulator({ apiKey: 'sk-openai-agents', models: ['gpt-4o-mini'] });
  gemini = await startGeminiSimulator({ apiKey: 'AIza-agents' });
  const common = { MODELGATE_MASTER_KEY: gatewayKey, LOGGING_ENABLED: 'true' };
  native = await startGateway({
    ...common,
    ANTHROPIC_API_KEY: 'sk-ant-agents',
    ANTHROPIC_BASE_URL: anthropic.baseUrl,
    GEMINI_API_KEY: 'AIza-agents',
    GEMINI_BASE_URL: gemini.baseUrl,
    SQLITE_PATH: join(directory, 'native.db'),
  });
  aliased = await startGateway({
    ...common,
    OPENAI_API_KEY: 'sk-openai-agents',
    OPENAI_BASE_URL: openai.baseUrl,
    MODEL_ALIASES: claudeIds.map((id) => `${id}=openai/gpt-4o-mini`).join(','),
    SQLITE_PATH: join(directory, 'aliased.db'),
  });
});

afterAll(async () => {
  await native?.close();
  await aliased?.close();
  await anthropic?.close();
  await openai?.close();
  await gemini?.close();
  await trap?.close();
  if (directory) rmSync(directory, { recursive: true, force: true });
});

/** Runs `claude -p` in a fresh working directory and home, asking it to write `note.txt` there. */
/** `keyVariable`: Claude Code sends ANTHROPIC_API_KEY as x-api-key, ANTHROPIC_AUTH_TOKEN as Authorization: Bearer. */
async function runClaude(
  gateway: RunningGateway,
  name: string,
  env: Record<string, string> = {},
  keyVariable: 'ANTHROPIC_API_KEY' | 'ANTHROPIC_AUTH_TOKEN' = 'ANTHROPIC_API_KEY',
  key = gatewayKey,
) {
  const { workdir, home } = agentRunDirectories(directory, name);
  const file = join(workdir, 'note.txt');
  const content = `written by claude code (${name})`;
  const prompt = `Write the note. [[sim-tool Write ${JSON.stringify({ file_path: file, content })}]]`;
  const run = await runAgentCli('claude', ['-p', prompt, '--permission-mode', 'acceptEdits'], {
    cwd: workdir,
    home,
    proxyUrl: trap.url,
    env: {
      ANTHROPIC_BASE_URL: gateway.url,
      [keyVariable]: key,
      DISABLE_TELEMETRY: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_AUTOUPDATER: '1',
      ...env,
    },
  });
  return { run, file, content };
}

function expectSuccess(run: AgentRun, file: string): void {
  const detail = runDetail(run);
  expect(run.timedOut, detail).toBe(false);
  expect(run.code, detail).toBe(0);
  // The simulators' final answer quotes the tool result (Gemini's simulator as its JSON functionResponse).
  expect(run.stdout.startsWith('Tool said: '), detail).toBe(true);
  expect(run.stdout, detail).toContain(`File created successfully at: ${file}`);
  expect(trap.attempts).toEqual([]);
}

describe('Claude Code (claude -p) through the gateway', () => {
  it('writes a file with its Write tool on an Anthropic model (its default, claude-opus-5-5)', { timeout: 180_000 }, async () => {
    const before = anthropic.requests.length;
    const { run, file, content } = await runClaude(native, 'anthropic');
    expectSuccess(run, file);
    expect(readFileSync(file, 'utf8')).toBe(content);

    const calls = anthropic.requests.slice(before).filter((request) => request.path === '/v1/messages');
    const { call, result } = anthropicToolRoundTrip(calls);
    expect(call).toMatchObject({ type: 'tool_use', name: 'Write', input: { file_path: file, content } });
    expect(result).toMatchObject({ tool_use_id: call?.id });
    expect(JSON.stringify(result?.content)).toContain(`File created successfully at: ${file}`);
    // The upstream got the upstream key, Claude Code's betas and model, not the gateway's key.
    expect(calls[0]?.headers['x-api-key']).toBe('sk-ant-agents');
    expect(String(calls[0]?.headers['anthropic-beta'])).toContain('claude-code-20250219');
    expect(calls.every((request) => request.body?.model === 'claude-opus-5-5')).toBe(true);

    await expectStreamedRecords(
      { url: native.url, key: gatewayKey },
      { endpoint: 'messages', path: '/v1/messages', provider: 'anthropic', model: 'claude-opus-5-5' },
    );
  });

  it('writes a file on an OpenAI model its model ids are aliased to', { timeout: 180_000 }, async () => {
    const before = openai.requests.length;
    const { run, file, content } = await runClaude(aliased, 'openai');
    expectSuccess(run, file);
    expect(readFileSync(file, 'utf8')).toBe(content);

    const calls = openai.requests.slice(before).filter((request) => request.path === '/v1/chat/completions');
    const { call: toolCall, result: toolMessage } = chatToolRoundTrip(calls);
    expect(toolCall).toMatchObject({ type: 'function', function: { name: 'Write' } });
    expect(JSON.parse(String((toolCall?.function as Json | undefined)?.arguments))).toEqual({ file_path: file, content });
    expect(toolMessage).toMatchObject({ role: 'tool', tool_call_id: toolCall?.id });
    expect(JSON.stringify(toolMessage?.content)).toContain(`File created successfully at: ${file}`);
    for (const request of calls) {
      expect(request.body?.model).toBe('gpt-4o-mini');
      // Claude Code asks for up to 128000 output tokens: clamped to the model's limit, which OpenAI would refuse above.
      expect(Number(request.body?.max_completion_tokens ?? request.body?.max_tokens)).toBeLessThanOrEqual(16384);
      expect(request.body).not.toHaveProperty('thinking');
      expect(request.body).not.toHaveProperty('context_management');
    }

    const usage = await waitForRows(aliased.url, gatewayKey, 'usage', (row) => row.endpoint === 'messages', 2);
    expect(usage.length).toBeGreaterThanOrEqual(2);
    for (const row of usage) {
      expect(row).toMatchObject({ status: 200, provider: 'openai', model: 'gpt-4o-mini', requested_model: 'claude-opus-5-5' });
      expect(Number(row.input_tokens)).toBeGreaterThan(0);
    }
    const audit = await waitForRows(aliased.url, gatewayKey, 'audit', (row) => row.endpoint === 'messages', 2);
    for (const row of audit) {
      expect(row.status).toBe(200);
      // What could not go to OpenAI is reported, not silently lost.
      expect(row.dropped_params).toEqual(expect.arrayContaining(['context_management']));
    }
  });

  it('writes a file on a Gemini model chosen with ANTHROPIC_MODEL, the key in ANTHROPIC_AUTH_TOKEN', { timeout: 180_000 }, async () => {
    const before = gemini.requests.length;
    const { run, file, content } = await runClaude(
      native,
      'gemini',
      { ANTHROPIC_MODEL: 'gemini/gemini-2.5-flash' },
      'ANTHROPIC_AUTH_TOKEN',
    );
    expectSuccess(run, file);
    expect(readFileSync(file, 'utf8')).toBe(content);

    const calls = gemini.requests.slice(before).filter((request) => /:streamGenerateContent$/.test(request.path));
    const { call, response } = geminiToolRoundTrip(calls);
    expect(call?.functionCall).toMatchObject({ name: 'Write', args: { file_path: file, content } });
    expect(JSON.stringify(response?.functionResponse)).toContain(`File created successfully at: ${file}`);

    const usage = await waitForRows(native.url, gatewayKey, 'usage', (row) => row.endpoint === 'messages' && row.provider === 'gemini', 2);
    expect(usage.length).toBeGreaterThanOrEqual(2);
    for (const row of usage) expect(row).toMatchObject({ status: 200, model: 'gemini-2.5-flash' });
  });
  it('exits 1 on a wrong gateway key, saying so, without calling the upstream', { timeout: 180_000 }, async () => {
    const before = anthropic.requests.length;
    const { run, file } = await runClaude(native, 'wrong-key', {}, 'ANTHROPIC_API_KEY', 'not-the-gateway-key');
    expect(run.timedOut).toBe(false);
    expect(run.code).toBe(1);
    // The gateway's 401 (Anthropic-shaped, x-should-retry: false) is what Claude Code reports.
    expect(run.stdout + run.stderr).toContain('401');
    expect(existsSync(file)).toBe(false);
    expect(anthropic.requests.slice(before).filter((request) => request.path === '/v1/messages')).toEqual([]);
  });
});
