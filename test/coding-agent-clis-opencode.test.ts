/**
 * The real opencode CLI (`opencode run`, its Linux x64 build opencode-linux-x64 pinned in
 * test/agents/package.json and installed by scripts/agents.sh) pointed at the gateway's
 * /v1/chat/completions as an OpenAI-compatible provider (`@ai-sdk/openai-compatible`, bundled with
 * opencode), non-interactively, with no network: the upstreams are simulators (OpenAI chat completions
 * streaming in openai-simulator.ts, Anthropic Messages streaming in anthropic-simulator.ts, each citing its
 * reference), and the CLI's HTTP(S) proxy is an outbound trap. opencode's one attempt there is a background
 * `npm install @opencode-ai/plugin` into its config directory (refused; opencode goes on without it); its
 * models.dev fetch, update check and default plugins are turned off by the OPENCODE_DISABLE_* variables.
 *
 * Each run is a tool round trip: the prompt (on standard input: opencode quotes a prompt given as an argument)
 * carries a `[[sim-tool write {...}]]` directive (scripted-tool-call.ts), so the simulator answers with a
 * call of opencode's write tool, opencode writes the file (allowed without a prompt by its default
 * permissions), sends the tool result back, and prints the simulator's final answer.
 *
 * - OpenAI model: gpt-4o-mini, chat completions relayed to the OpenAI simulator.
 * - Anthropic model: anthropic/claude-sonnet-4-5, chat completions translated to Anthropic Messages.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgentCli } from './helpers/agent-cli.ts';
import {
  agentRunDirectories,
  anthropicToolRoundTrip,
  chatToolRoundTrip,
  expectStreamedRecords,
  runDetail,
} from './helpers/agent-round-trips.ts';
import { type OutboundTrap, startOutboundTrap } from './helpers/outbound-trap.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type AnthropicSimulator, startAnthropicSimulator } from './simulators/anthropic-simulator.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

type Json = Record<string, unknown>;

const gatewayKey = 'mg-agents-opencode-key';

let directory: string;
let trap: OutboundTrap;
let openai: Simulator;
let anthropic: AnthropicSimulator;
let gateway: RunningGateway;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'modelgate-opencode-'));
  trap = await startOutboundTrap();
  openai = await startOpenAISimulator({ apiKey: 'sk-openai-opencode', models: ['gpt-4o-mini'] });
  anthropic = await startAnthropicSimulator({ apiKey: 'sk-ant-opencode' });
  gateway = await startGateway({
    MODELGATE_MASTER_KEY: gatewayKey,
    LOGGING_ENABLED: 'true',
    OPENAI_API_KEY: 'sk-openai-opencode',
    OPENAI_BASE_URL: openai.baseUrl,
    ANTHROPIC_API_KEY: 'sk-ant-opencode',
    ANTHROPIC_BASE_URL: anthropic.baseUrl,
    SQLITE_PATH: join(directory, 'gateway.db'),
  });
});

afterAll(async () => {
  await gateway?.close();
  await openai?.close();
  await anthropic?.close();
  await trap?.close();
  if (directory) rmSync(directory, { recursive: true, force: true });
});

/** The opencode.json the README recommends: the gateway as an OpenAI-compatible provider. */
function opencodeConfig(): Json {
  return {
    $schema: 'https://opencode.ai/config.json',
    provider: {
      modelgate: {
        npm: '@ai-sdk/openai-compatible',
        name: 'Modelgate',
        options: { baseURL: `${gateway.url}/v1`, apiKey: '{env:MODELGATE_API_KEY}' },
        models: { 'gpt-4o-mini': { name: 'GPT-4o mini' }, 'anthropic/claude-sonnet-4-5': { name: 'Claude Sonnet 4.5' } },
      },
    },
  };
}

async function runOpencode(model: string, name: string) {
  const { workdir, home } = agentRunDirectories(directory, name);
  mkdirSync(join(home, '.config', 'opencode'), { recursive: true });
  writeFileSync(join(home, '.config', 'opencode', 'opencode.json'), JSON.stringify(opencodeConfig(), null, 2));
  const file = join(workdir, 'note.txt');
  const content = `written by opencode (${name})`;
  const run = await runAgentCli('opencode', ['run', '--pure', '-m', `modelgate/${model}`], {
    cwd: workdir,
    home,
    proxyUrl: trap.url,
    // opencode starts slower than the others (a Bun binary that sets up a database and a server per run).
    timeoutMs: 180_000,
    input: `Write the note. [[sim-tool write ${JSON.stringify({ filePath: file, content })}]]\n`,
    env: {
      MODELGATE_API_KEY: gatewayKey,
      OPENCODE_DISABLE_MODELS_FETCH: '1',
      OPENCODE_DISABLE_AUTOUPDATE: '1',
      OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
      OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
      OPENCODE_DISABLE_SHARE: '1',
    },
  });
  const detail = runDetail(run);
  expect(run.timedOut, detail).toBe(false);
  expect(run.code, detail).toBe(0);
  expect(run.stdout, detail).toContain('Tool said: Wrote file successfully.');
  expect(readFileSync(file, 'utf8')).toBe(content);
  expect(trap.attempts.filter((attempt) => attempt !== 'CONNECT registry.npmjs.org:443')).toEqual([]);
  return { file, content };
}

function expectRecords(provider: string, model: string): Promise<void> {
  return expectStreamedRecords(
    { url: gateway.url, key: gatewayKey },
    { endpoint: 'chat.completions', path: '/v1/chat/completions', provider, model },
  );
}

describe('opencode (opencode run) through the gateway', () => {
  it('writes a file on an OpenAI model', { timeout: 240_000 }, async () => {
    const before = openai.requests.length;
    const { file, content } = await runOpencode('gpt-4o-mini', 'openai');
    const calls = openai.requests.slice(before).filter((request) => request.path === '/v1/chat/completions');
    const { call: toolCall, result: toolMessage } = chatToolRoundTrip(calls);
    expect(toolCall).toMatchObject({ type: 'function', function: { name: 'write' } });
    expect(JSON.parse(String((toolCall?.function as Json | undefined)?.arguments))).toEqual({ filePath: file, content });
    expect(toolMessage).toMatchObject({ role: 'tool', tool_call_id: toolCall?.id, content: 'Wrote file successfully.' });
    await expectRecords('openai', 'gpt-4o-mini');
  });

  it('writes a file on an Anthropic model (chat completions translated to Messages)', { timeout: 240_000 }, async () => {
    const before = anthropic.requests.length;
    const { file, content } = await runOpencode('anthropic/claude-sonnet-4-5', 'anthropic');
    const calls = anthropic.requests.slice(before).filter((request) => request.path === '/v1/messages');
    const { call, result } = anthropicToolRoundTrip(calls);
    expect(call).toMatchObject({ name: 'write', input: { filePath: file, content } });
    expect(result).toMatchObject({ tool_use_id: call?.id, content: 'Wrote file successfully.' });
    await expectRecords('anthropic', 'claude-sonnet-4-5');
  });
});
