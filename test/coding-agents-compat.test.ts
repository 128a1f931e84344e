/**
 * What coding agents (Claude Code on /v1/messages, Codex on /v1/responses) send, through the official SDKs,
 * to every kind of target: system messages inside `messages`, one API's fields that another API does not
 * take (mapped or dropped and reported, never sent to a strict upstream), and the input tokens of
 * message_start on the native Anthropic path.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessagesExtension } from '../src/messages/messages-extension.ts';
import { createResponsesExtension } from '../src/responses/responses-extension.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type AnthropicSimulator, startAnthropicSimulator } from './simulators/anthropic-simulator.ts';
import { type GeminiSimulator, startGeminiSimulator } from './simulators/gemini-simulator.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

type Json = Record<string, unknown>;

let openai: Simulator;
let groq: Simulator;
let anthropic: AnthropicSimulator;
let gemini: GeminiSimulator;
let running: RunningGateway;
let client: Anthropic;
let openaiClient: OpenAI;

beforeAll(async () => {
  openai = await startOpenAISimulator({ apiKey: 'sk-openai', models: ['gpt-4o-mini', 'gpt-4o', 'o4-mini'] });
  groq = await startOpenAISimulator({ flavor: 'groq', apiKey: 'gsk-groq', models: ['llama-3.3-70b-versatile', 'openai/gpt-oss-20b'] });
  anthropic = await startAnthropicSimulator({ apiKey: 'sk-ant-upstream' });
  gemini = await startGeminiSimulator({ apiKey: 'AIza-upstream' });
  running = await startGateway(
    {
      OPENAI_API_KEY: 'sk-openai',
      OPENAI_BASE_URL: openai.baseUrl,
      GROQ_API_KEY: 'gsk-groq',
      GROQ_BASE_URL: groq.baseUrl,
      ANTHROPIC_API_KEY: 'sk-ant-upstream',
      ANTHROPIC_BASE_URL: anthropic.baseUrl,
      GEMINI_API_KEY: 'AIza-upstream',
      GEMINI_BASE_URL: gemini.baseUrl,
      MODELGATE_MASTER_KEY: 'mg-test-key',
    },
    { extensions: [createMessagesExtension(), createResponsesExtension(pino({ level: 'silent' }))] },
  );
  client = new Anthropic({ apiKey: 'mg-test-key', baseURL: running.url, maxRetries: 0 });
  openaiClient = new OpenAI({ apiKey: 'mg-test-key', baseURL: `${running.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await running?.close();
  await openai?.close();
  await groq?.close();
  await anthropic?.close();
  await gemini?.close();
});

function last(simulator: { requests: { body: Json | undefined }[] }): Json {
  const body = simulator.requests.at(-1)?.body;
  if (!body) throw new Error('no upstream request');
  return body;
}

/** What Claude Code sends: system blocks, a system message inside `messages`, thinking, output_config, context_management. */
function claudeCodeLike(model: string): Anthropic.MessageCreateParamsNonStreaming {
  return {
    model,
    max_tokens: 2000,
    system: [{ type: 'text', text: 'You are Claude Code.' }],
    messages: [
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'ok' },
      { role: 'system', content: [{ type: 'text', text: 'Reminder: be brief.' }] } as never,
      { role: 'user', content: 'second' },
    ],
    thinking: { type: 'adaptive' } as never,
    output_config: { effort: 'high' },
    context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] },
    metadata: { user_id: 'user_abc' },
  } as Anthropic.MessageCreateParamsNonStreaming;
}

/** Betas Claude Code selects (context_management needs the first, tool search fields the second). */
const contextBeta = 'context-management-2025-06-27';
const toolBetas = 'advanced-tool-use-2025-11-20,structured-outputs-2025-11-13';

/** A custom tool with the fields of Anthropic's tool-search and structured-output betas. */
const betaTool = {
  name: 'read_file',
  description: 'Reads a file',
  input_schema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
  strict: true,
  defer_loading: true,
  input_examples: [{ path: 'README.md' }],
  cache_control: { type: 'ephemeral' },
};

describe('system messages inside /v1/messages `messages`', () => {
  it('stay system messages, in place, for an OpenAI model', async () => {
    const message = await client.messages.create(claudeCodeLike('openai/gpt-4o-mini'));
    expect(message.content[0]).toMatchObject({ type: 'text' });
    expect(last(openai).messages).toEqual([
      { role: 'system', content: 'You are Claude Code.' },
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'ok' },
      { role: 'system', content: 'Reminder: be brief.' },
      { role: 'user', content: 'second' },
    ]);
  });

  it('are folded into `system` for an Anthropic model', async () => {
    // Claude Sonnet 4.5 takes thinking with a budget (adaptive thinking is for 4.6 and later).
    await client.messages.create(
      { ...claudeCodeLike('anthropic/claude-sonnet-4-5'), thinking: { type: 'enabled', budget_tokens: 1024 } },
      { headers: { 'anthropic-beta': contextBeta } },
    );
    const body = last(anthropic);
    expect(body.system).toEqual([
      { type: 'text', text: 'You are Claude Code.' },
      { type: 'text', text: 'Reminder: be brief.' },
    ]);
    expect((body.messages as Json[]).map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    // Anthropic's own fields go to Anthropic as they are.
    expect(body.output_config).toEqual({ effort: 'high' });
    expect(body.context_management).toEqual({ edits: [{ type: 'clear_tool_uses_20250919' }] });
  });

  it('become Gemini system instructions', async () => {
    const message = await client.messages.create(claudeCodeLike('gemini/gemini-2.5-flash'));
    expect(message.type).toBe('message');
    const body = last(gemini as never);
    expect(JSON.stringify(body.systemInstruction)).toContain('Reminder: be brief.');
  });

  it('are validated like `system`', async () => {
    const error = await client.messages
      .create({ model: 'gpt-4o-mini', max_tokens: 5, messages: [{ role: 'system', content: [{ type: 'image' }] }] } as never)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(String((error as Error).message)).toContain('messages.0.content.0');
  });
});

describe("one API's fields on another API's upstream", () => {
  it('maps adaptive thinking with output_config.effort to reasoning_effort on an OpenAI reasoning model', async () => {
    const response = await client.messages.create(claudeCodeLike('openai/o4-mini')).withResponse();
    const body = last(openai);
    expect(body.reasoning_effort).toBe('high');
    expect(body.max_completion_tokens).toBe(2000);
    for (const field of ['thinking', 'output_config', 'context_management', 'metadata']) expect(body).not.toHaveProperty(field);
    expect(response.response.headers.get('x-modelgate-dropped-params')).toBe('context_management');
  });

  it('drops thinking where the model cannot reason, reported', async () => {
    const response = await client.messages.create(claudeCodeLike('openai/gpt-4o')).withResponse();
    expect(last(openai)).not.toHaveProperty('reasoning_effort');
    expect(response.response.headers.get('x-modelgate-dropped-params')?.split(',').sort()).toEqual(['context_management', 'thinking']);
  });

  it('never sends Anthropic fields to a strict upstream (Groq answers 400 to unknown properties)', async () => {
    const params = { ...claudeCodeLike('groq/llama-3.3-70b-versatile'), top_k: 3, some_future_field: { a: 1 } };
    const response = await client.messages.create(params as Anthropic.MessageCreateParamsNonStreaming).withResponse();
    expect(response.data.type).toBe('message');
    const body = last(groq);
    expect(Object.keys(body).sort()).toEqual(['max_tokens', 'messages', 'model', 'stream', 'user'].filter((key) => key in body).sort());
    expect(response.response.headers.get('x-modelgate-dropped-params')?.split(',').sort()).toEqual(
      ['context_management', 'some_future_field', 'thinking', 'top_k'].sort(),
    );
  });

  it('keeps reasoning_effort for a Groq model that reasons', async () => {
    await client.messages.create(claudeCodeLike('groq/openai/gpt-oss-20b'));
    expect(last(groq).reasoning_effort).toBe('high');
  });

  it('streams through a strict upstream too', async () => {
    const stream = client.messages.stream({ ...claudeCodeLike('groq/llama-3.3-70b-versatile') } as Anthropic.MessageStreamParams);
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe('end_turn');
  });

  it("drops Codex's Responses-only fields (client_metadata) on the chat path of a strict upstream", async () => {
    const params = {
      model: 'groq/llama-3.3-70b-versatile',
      instructions: 'You are Codex.',
      input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] }],
      store: false,
      include: ['reasoning.encrypted_content'],
      prompt_cache_key: 'session-1',
      client_metadata: { originator: 'codex_exec' },
      stream: false,
    };
    const response = await openaiClient.responses.create(params as never).withResponse();
    expect(response.data.status).toBe('completed');
    const body = last(groq);
    expect(body).not.toHaveProperty('client_metadata');
    expect(body).not.toHaveProperty('prompt_cache_key');
    expect(response.response.headers.get('x-modelgate-dropped-params')?.split(',').sort()).toEqual(['client_metadata', 'prompt_cache_key']);
  });

  it('a direct chat call to a strict upstream loses unknown fields, reported', async () => {
    const response = await openaiClient.chat.completions
      .create({ model: 'groq/llama-3.3-70b-versatile', messages: [{ role: 'user', content: 'hi' }], thinking: { type: 'enabled' } } as never)
      .withResponse();
    expect(response.data.object).toBe('chat.completion');
    expect(last(groq)).not.toHaveProperty('thinking');
    expect(response.response.headers.get('x-modelgate-dropped-params')).toBe('thinking');
  });
});

describe('message_start on the native Anthropic path', () => {
  it('reports the input tokens the upstream counted', async () => {
    const stream = client.messages.stream({
      model: 'anthropic/claude-sonnet-4-5',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'count these input words please' }],
    });
    let startTokens: number | undefined;
    stream.on('streamEvent', (event) => {
      if (event.type === 'message_start') startTokens = event.message.usage.input_tokens;
    });
    const final = await stream.finalMessage();
    expect(startTokens).toBeGreaterThan(0);
    expect(startTokens).toBe(final.usage.input_tokens);
  });
});

describe('anthropic-beta and beta tool fields', () => {
  it('are forwarded to Anthropic with the tool fields as sent', async () => {
    const response = await client.messages
      .create(
        {
          model: 'anthropic/claude-sonnet-4-5',
          max_tokens: 100,
          messages: [{ role: 'user', content: 'read it' }],
          tools: [betaTool as Anthropic.Tool],
          context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] },
        } as Anthropic.MessageCreateParamsNonStreaming,
        { headers: { 'anthropic-beta': `${contextBeta},${toolBetas}` } },
      )
      .withResponse();
    expect(response.data.stop_reason).toBe('tool_use');
    const recorded = anthropic.requests.at(-1);
    expect(recorded?.headers['anthropic-beta']).toBe(`${contextBeta},${toolBetas}`);
    expect(recorded?.headers['anthropic-version']).toBe('2023-06-01');
    expect((recorded?.body?.tools as Json[] | undefined)?.[0]).toEqual(betaTool);
    expect(response.response.headers.get('x-modelgate-dropped-params')).toBeNull();
  });

  it('without the beta header the (simulated) API refuses the beta fields, as Anthropic does', async () => {
    const error = await client.messages
      .create({ model: 'anthropic/claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'x' }], tools: [betaTool as Anthropic.Tool] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(String((error as Error).message)).toContain('Extra inputs are not permitted');
  });

  it('are reported for an OpenAI model; strict becomes function.strict', async () => {
    const response = await client.messages
      .create(
        { model: 'openai/gpt-4o-mini', max_tokens: 100, messages: [{ role: 'user', content: 'read it' }], tools: [betaTool as Anthropic.Tool] },
        { headers: { 'anthropic-beta': toolBetas } },
      )
      .withResponse();
    expect(response.data.type).toBe('message');
    expect(last(openai).tools).toEqual([
      { type: 'function', function: { name: 'read_file', description: 'Reads a file', parameters: betaTool.input_schema, strict: true } },
    ]);
    expect(response.response.headers.get('x-modelgate-dropped-params')?.split(',').sort()).toEqual(
      ['anthropic-beta', 'tools.cache_control', 'tools.defer_loading', 'tools.input_examples'].sort(),
    );
  });

  it('are forwarded from an OpenAI client to an Anthropic model too', async () => {
    await openaiClient.chat.completions.create(
      { model: 'anthropic/claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] },
      { headers: { 'anthropic-beta': contextBeta } },
    );
    expect(anthropic.requests.at(-1)?.headers['anthropic-beta']).toBe(contextBeta);
  });
});

/** The SDK refuses a large max_tokens without streaming unless the request has its own timeout. */
const longRequest = { timeout: 60_000 };

describe('max_tokens above the model\'s output limit (src/usage/model-limits.json)', () => {
  it("clamps Claude Code's 32000 for gpt-4o-mini (16,384), reported", async () => {
    const response = await client.messages
      .create({ model: 'openai/gpt-4o-mini', max_tokens: 32000, messages: [{ role: 'user', content: 'long answer please' }] }, longRequest)
      .withResponse();
    expect(response.data.type).toBe('message');
    expect(last(openai).max_completion_tokens).toBe(16384);
    expect(response.response.headers.get('x-modelgate-dropped-params')).toBe('max_tokens (clamped to 16384)');
  });

  it('clamps on the chat API and for Responses over chat (max_output_tokens)', async () => {
    const chat = await openaiClient.chat.completions
      .create({ model: 'openai/gpt-4o', max_tokens: 50000, messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(last(openai).max_tokens).toBe(16384);
    expect(chat.response.headers.get('x-modelgate-dropped-params')).toBe('max_tokens (clamped to 16384)');
    const responses = await openaiClient.responses
      .create({ model: 'groq/llama-3.3-70b-versatile', input: 'hi', max_output_tokens: 100000 })
      .withResponse();
    expect(last(groq).max_tokens).toBe(32768);
    expect(responses.response.headers.get('x-modelgate-dropped-params')).toBe('max_output_tokens (clamped to 32768)');
  });

  it('leaves a max_tokens within the limit, and models without a known limit, alone', async () => {
    const response = await client.messages
      .create({ model: 'openai/gpt-4o-mini', max_tokens: 16384, messages: [{ role: 'user', content: 'x' }] }, longRequest)
      .withResponse();
    expect(last(openai).max_completion_tokens).toBe(16384);
    expect(response.response.headers.get('x-modelgate-dropped-params')).toBeNull();
    await client.messages.create({ model: 'groq/openai/gpt-oss-20b', max_tokens: 200000, messages: [{ role: 'user', content: 'x' }] }, longRequest);
    expect(last(groq).max_tokens).toBe(200000);
  });
});
