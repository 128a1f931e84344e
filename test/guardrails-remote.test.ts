/**
 * Remote guardrails: `webhook` against a local HTTP server (allow, deny, modify, flag, timeout,
 * garbage; fail modes open and closed) and `llm` (judge and rewrite) through the gateway's own
 * provider against the OpenAI simulator, with the official openai client.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

type Json = Record<string, unknown>;

let simulator: Simulator;
let hookServer: Server;
let hookUrl: string;
const hookCalls: { path: string; headers: IncomingMessage['headers']; body: Json }[] = [];
const gateways: RunningGateway[] = [];
const directories: string[] = [];

function startHookServer(): Promise<void> {
  hookServer = createServer((request, response) => {
    let text = '';
    request.on('data', (part: Buffer) => {
      text += part.toString();
    });
    request.on('end', () => {
      const body = JSON.parse(text) as Json;
      hookCalls.push({ path: request.url ?? '', headers: request.headers, body });
      const messages = body.messages as { role: string; content: string }[];
      const last = messages.at(-1)?.content ?? '';
      const answer = (value: unknown) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(value));
      };
      if (request.url === '/open') {
        if (last.includes('open-slow')) setTimeout(() => answer({ action: 'allow' }), 6000);
        else answer({ action: 'allow' });
        return;
      }
      if (last.includes('please deny')) answer({ action: 'deny', reason: 'not on my watch' });
      else if (last.includes('please modify'))
        answer({ action: 'modify', messages: messages.map((message) => ({ content: message.content.toUpperCase() })) });
      else if (last.includes('please flag')) answer({ action: 'flag', reason: 'worth a look' });
      else if (last.includes('please stall')) setTimeout(() => answer({ action: 'allow' }), 6000);
      else if (last.includes('please garble')) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{not json');
      } else if (last.includes('please fail')) {
        response.writeHead(500);
        response.end();
      } else answer({ action: 'allow' });
    });
  });
  return new Promise((resolve) => {
    hookServer.listen(0, '127.0.0.1', () => {
      hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}`;
      resolve();
    });
  });
}

async function gatewayWith(yaml: string): Promise<OpenAI> {
  const directory = mkdtempSync(join(tmpdir(), 'modelgate-guardrails-remote-'));
  directories.push(directory);
  writeFileSync(join(directory, 'config.yaml'), yaml);
  const running = await startGateway(
    {
      OPENAI_API_KEY: 'sk-openai',
      OPENAI_BASE_URL: simulator.baseUrl,
      MODELGATE_MASTER_KEY: 'mg-remote',
      GUARDRAILS_ENABLED: 'true',
      SQLITE_PATH: join(directory, 'gateway.db'),
    },
    { cwd: directory },
  );
  gateways.push(running);
  return new OpenAI({ apiKey: 'mg-remote', baseURL: `${running.url}/v1`, maxRetries: 0 });
}

let hooks: OpenAI;
let judged: OpenAI;

beforeAll(async () => {
  simulator = await startOpenAISimulator({ apiKey: 'sk-openai' });
  await startHookServer();
  hooks = await gatewayWith(`
guardrails:
  rules:
    - name: moderation-hook
      type: webhook
      url: ${hookUrl}/closed
      headers: { authorization: Bearer hook-secret }
      timeout_ms: 1500
      fail_mode: closed
    - name: lenient-hook
      type: webhook
      url: ${hookUrl}/open
      timeout_ms: 1500
      fail_mode: open
`);
  judged = await gatewayWith(`
guardrails:
  rules:
    - name: judge
      type: llm
      model: openai/sim-verbatim
      mode: judge
    - name: polisher
      type: llm
      order: 1
      model: openai/gpt-4o-mini
      mode: rewrite
      prompt: Make it nicer.
`);
});

afterAll(async () => {
  for (const running of gateways) await running.close();
  await simulator?.close();
  hookServer?.closeAllConnections();
  await new Promise((resolve) => hookServer?.close(resolve));
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const model = 'openai/gpt-4o-mini';

function lastUpstreamMessage(): Json | undefined {
  const messages = simulator.requests.findLast((request) => request.method === 'POST')?.body?.messages as Json[] | undefined;
  return messages?.[0];
}

async function ask(client: OpenAI, content: string) {
  return client.chat.completions.create({ model, messages: [{ role: 'user', content }] }).withResponse();
}

async function refusal(client: OpenAI, content: string): Promise<{ code?: string; message: string }> {
  const error = await ask(client, content).catch((caught: unknown) => caught);
  if (!(error instanceof OpenAI.APIError)) throw new Error('expected an API error');
  return { code: error.code as string, message: (error.error as { message: string }).message };
}

describe('webhook guardrail', () => {
  it('sends the text with the configured headers, both hooks in parallel, and allows', async () => {
    const before = hookCalls.length;
    const { data } = await ask(hooks, 'hello there');
    expect(data.choices[0]?.message.content).toBe('Hello from openai: hello there');
    const calls = hookCalls.slice(before);
    expect(calls.map((call) => call.path).sort()).toEqual(['/closed', '/open']);
    const closed = calls.find((call) => call.path === '/closed');
    expect(closed?.headers.authorization).toBe('Bearer hook-secret');
    expect(closed?.body).toMatchObject({
      guardrail: 'moderation-hook',
      phase: 'input',
      endpoint: 'chat.completions',
      model,
      messages: [{ role: 'user', content: 'hello there' }],
    });
  });

  it('denies with the webhook reason', async () => {
    const error = await refusal(hooks, 'please deny this');
    expect(error.code).toBe('guardrail_blocked');
    expect(error.message).toBe("Request blocked by guardrail 'moderation-hook': not on my watch");
  });

  it('sends the modified text upstream', async () => {
    const { data, response } = await ask(hooks, 'please modify me');
    expect(lastUpstreamMessage()).toEqual({ role: 'user', content: 'PLEASE MODIFY ME' });
    expect(data.choices[0]?.message.content).toBe('Hello from openai: PLEASE MODIFY ME');
    expect(response.headers.get('x-modelgate-guardrails')).toBe('moderation-hook:modify');
  });

  it('flags', async () => {
    const { response } = await ask(hooks, 'please flag me');
    expect(response.headers.get('x-modelgate-guardrails')).toBe('moderation-hook:flag');
  });

  it('fails closed on a timeout, a 500 and a garbled answer; fails open when so configured', async () => {
    expect((await refusal(hooks, 'please stall')).message).toContain('did not answer within 1500 ms (fail_mode closed)');
    expect((await refusal(hooks, 'please fail')).message).toContain('answered 500');
    expect((await refusal(hooks, 'please garble')).message).toContain('not JSON');
    const { data, response } = await ask(hooks, 'open-slow');
    expect(data.choices[0]?.message.content).toBe('Hello from openai: open-slow');
    expect(response.headers.get('x-modelgate-guardrails')).toBe('lenient-hook:flag');
  });
});

describe('llm guardrail', () => {
  it('judges through the gateway provider: ALLOW passes, BLOCK blocks with the reason, anything else fails closed', async () => {
    const { data } = await ask(judged, 'ALLOW this one');
    const judgeCall = simulator.requests.find((request) => request.body?.model === 'sim-verbatim');
    expect(judgeCall?.body?.messages).toEqual([
      { role: 'system', content: expect.stringContaining('ALLOW') },
      { role: 'user', content: 'ALLOW this one' },
    ]);
    // The rewrite (order 1) ran after the judge: the simulator's echo is the "rewritten" text.
    expect(lastUpstreamMessage()).toEqual({
      role: 'user',
      content: 'Hello from openai: ALLOW this one',
    });
    expect(data.choices[0]?.message.content).toBe('Hello from openai: Hello from openai: ALLOW this one');
    const rewriteCall = simulator.requests.find((request) => JSON.stringify(request.body?.messages ?? []).includes('Make it nicer.'));
    expect(rewriteCall).toBeDefined();

    expect((await refusal(judged, 'BLOCK: rude words')).message).toBe(
      "Request blocked by guardrail 'judge': the judge model said: rude words",
    );
    expect((await refusal(judged, 'no verdict here')).message).toContain('neither ALLOW nor BLOCK (fail_mode closed)');
  });
});
