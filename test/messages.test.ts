/**
 * The inbound Anthropic Messages API through the official `@anthropic-ai/sdk`, over three providers:
 * an OpenAI-compatible one (OpenAI simulator), the native Anthropic provider (Anthropic simulator)
 * and the native Gemini provider (Gemini simulator). Streaming and not, tools, errors.
 */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessagesExtension } from '../src/messages/messages-extension.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type AnthropicSimulator, startAnthropicSimulator } from './simulators/anthropic-simulator.ts';
import { type GeminiSimulator, startGeminiSimulator } from './simulators/gemini-simulator.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

type Json = Record<string, unknown>;

let openai: Simulator;
let anthropic: AnthropicSimulator;
let gemini: GeminiSimulator;
let running: RunningGateway;
let client: Anthropic;

const weatherTool: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
};

/** Streams a tool-using turn for `model`, answers the tool call, and returns the final turn and the follow-up. */
async function toolRoundTrip(model: string): Promise<{ final: Anthropic.Message; followUp: Anthropic.Message }> {
  const final = await client.messages
    .stream({ model, max_tokens: 100, messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weatherTool] })
    .finalMessage();
  expect(final.stop_reason).toBe('tool_use');
  const toolUse = final.content.find((block) => block.type === 'tool_use');
  expect(toolUse).toMatchObject({ type: 'tool_use', name: 'get_weather' });
  if (toolUse?.type !== 'tool_use') throw new Error('no tool_use');
  const followUp = await client.messages.create({
    model,
    max_tokens: 100,
    tools: [weatherTool],
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: final.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: 'sunny' }] },
    ],
  });
  return { final, followUp };
}

beforeAll(async () => {
  openai = await startOpenAISimulator({ apiKey: 'sk-openai' });
  anthropic = await startAnthropicSimulator({ apiKey: 'sk-ant-upstream' });
  gemini = await startGeminiSimulator({ apiKey: 'AIza-upstream' });
  running = await startGateway(
    {
      OPENAI_API_KEY: 'sk-openai',
      OPENAI_BASE_URL: openai.baseUrl,
      ANTHROPIC_API_KEY: 'sk-ant-upstream',
      ANTHROPIC_BASE_URL: anthropic.baseUrl,
      GEMINI_API_KEY: 'AIza-upstream',
      GEMINI_BASE_URL: gemini.baseUrl,
      MODELGATE_MASTER_KEY: 'mg-test-key',
    },
    { extensions: [createMessagesExtension()] },
  );
  client = new Anthropic({ apiKey: 'mg-test-key', baseURL: running.url, maxRetries: 0 });
});

afterAll(async () => {
  await running?.close();
  await openai?.close();
  await anthropic?.close();
  await gemini?.close();
});

function lastOpenAI(): Json {
  const body = openai.requests.at(-1)?.body;
  if (!body) throw new Error('no upstream request');
  return body;
}

describe('Messages API over an OpenAI-compatible provider', () => {
  it('creates a message and translates system, parameters and metadata', async () => {
    // Sampling parameters are documented request fields that this SDK version no longer types.
    const params: Anthropic.MessageCreateParamsNonStreaming & { temperature: number; top_p: number } = {
      model: 'gpt-4o-mini',
      max_tokens: 100,
      system: [{ type: 'text', text: 'Be brief' }],
      messages: [{ role: 'user', content: 'Say hi' }],
      temperature: 0.3,
      top_p: 0.9,
      stop_sequences: ['END'],
      metadata: { user_id: 'user-7' },
    };
    const message = await client.messages.create(params);
    expect(message.type).toBe('message');
    expect(message._request_id).toBeTruthy();
    expect(message.role).toBe('assistant');
    expect(message.id).toMatch(/^msg_/);
    expect(message.model).toBe('gpt-4o-mini');
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from openai: Say hi' }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage).toMatchObject({ input_tokens: 4, output_tokens: 5, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    const upstream = lastOpenAI();
    expect(upstream.messages).toEqual([
      { role: 'system', content: 'Be brief' },
      { role: 'user', content: 'Say hi' },
    ]);
    // OpenAI's reasoning models reject max_tokens: the limit goes as max_completion_tokens to OpenAI.
    expect(upstream).toMatchObject({ max_completion_tokens: 100, temperature: 0.3, top_p: 0.9, stop: ['END'], user: 'user-7' });
    expect(upstream).not.toHaveProperty('max_tokens');
    expect(upstream).not.toHaveProperty('system');
    expect(upstream).not.toHaveProperty('metadata');
  });

  it('streams the documented event sequence', async () => {
    const stream = await client.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Stream please' }],
      stream: true,
    });
    const events: Anthropic.RawMessageStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const types = events.map((event) => event.type);
    expect(types[0]).toBe('message_start');
    expect(types[1]).toBe('content_block_start');
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    const text = events
      .flatMap((event) => (event.type === 'content_block_delta' && event.delta.type === 'text_delta' ? [event.delta.text] : []))
      .join('');
    expect(text).toBe('Hello from openai: Stream please');
    const delta = events.find((event) => event.type === 'message_delta');
    expect(delta?.type === 'message_delta' && delta.delta.stop_reason).toBe('end_turn');
    expect(delta?.type === 'message_delta' && delta.usage).toMatchObject({ output_tokens: 5, input_tokens: 2 });
  });

  it('sends a ping after message_start on the wire', async () => {
    // Claude Code calls /v1/messages?beta=true with anthropic-beta headers.
    const response = await fetch(`${running.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: {
        'x-api-key': 'mg-test-key',
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        'anthropic-beta': 'claude-code-20250219',
      },
      body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], stream: true }),
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const text = await response.text();
    const names = [...text.matchAll(/^event: (.+)$/gm)].map((match) => match[1]);
    expect(names.slice(0, 3)).toEqual(['message_start', 'ping', 'content_block_start']);
    expect(names.at(-1)).toBe('message_stop');
    expect(text).not.toContain('[DONE]');
  });

  it('uses tools and continues after a tool_result', async () => {
    const message = await client.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [weatherTool],
      tool_choice: { type: 'any' },
    });
    expect(message.stop_reason).toBe('tool_use');
    const toolUse = message.content.find((block) => block.type === 'tool_use');
    expect(toolUse).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { location: 'Paris' } });
    expect(lastOpenAI().tools).toEqual([
      { type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: weatherTool.input_schema } },
    ]);
    expect(lastOpenAI().tool_choice).toBe('required');
    if (toolUse?.type !== 'tool_use') throw new Error('no tool_use');

    const followUp = await client.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 100,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: message.content },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: toolUse.id, content: [{ type: 'text', text: 'sunny' }] },
            { type: 'text', text: 'And tomorrow?' },
          ],
        },
      ],
    });
    // The simulator calls the tool again because the turn ends with user text.
    expect(followUp.stop_reason).toBe('tool_use');
    const messages = lastOpenAI().messages as Json[];
    expect(messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: toolUse.id, type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }],
      },
      { role: 'tool', tool_call_id: toolUse.id, content: 'sunny' },
      { role: 'user', content: 'And tomorrow?' },
    ]);
  });

  it('maps tool_choice tool/none and disable_parallel_tool_use', async () => {
    await client.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'x' }],
      tools: [weatherTool],
      tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
    });
    expect(lastOpenAI()).toMatchObject({
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      parallel_tool_calls: false,
    });
    const message = await client.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'x' }],
      tools: [weatherTool],
      tool_choice: { type: 'none' },
    });
    expect(lastOpenAI().tool_choice).toBe('none');
    expect(message.stop_reason).toBe('end_turn');
  });

  it('streams tool use through messages.stream().finalMessage()', async () => {
    const stream = client.messages.stream({
      model: 'gpt-4o-mini',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [weatherTool],
    });
    const partials: string[] = [];
    stream.on('inputJson', (partial) => partials.push(partial));
    const final = await stream.finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content.find((block) => block.type === 'tool_use')).toMatchObject({ name: 'get_weather', input: { location: 'Paris' } });
    expect(partials.join('')).toBe('{"location":"Paris"}');
    expect(final.usage.output_tokens).toBe(7);
  });

  it('moves images out of tool results into the following user message', async () => {
    await client.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 10,
      messages: [
        { role: 'user', content: 'Screenshot?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_s', name: 'screenshot', input: {} }] },
        {
          role: 'user',
          content: [
            {
              type: 'tool_result',
              tool_use_id: 'toolu_s',
              content: [
                { type: 'text', text: 'taken' },
                { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
              ],
            },
          ],
        },
      ],
    });
    expect((lastOpenAI().messages as Json[]).slice(2)).toEqual([
      { role: 'tool', tool_call_id: 'toolu_s', content: 'taken' },
      { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] },
    ]);
  });

  it('sends images as data URLs', async () => {
    await client.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 10,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
          ],
        },
      ],
    });
    expect((lastOpenAI().messages as Json[])[0]).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'What is this' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
        { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
      ],
    });
  });

  it('drops thinking for a model that cannot reason (gpt-4o-mini answers 400 to reasoning_effort) and reports top_k', async () => {
    const params: Anthropic.MessageCreateParamsNonStreaming & { top_k: number } = {
      model: 'gpt-4o-mini',
      max_tokens: 16000,
      messages: [{ role: 'user', content: 'think' }],
      thinking: { type: 'enabled', budget_tokens: 8000 },
      top_k: 5,
    };
    const response = await client.messages.create(params).withResponse();
    expect(lastOpenAI()).not.toHaveProperty('reasoning_effort');
    expect(lastOpenAI()).not.toHaveProperty('top_k');
    expect(response.response.headers.get('x-modelgate-dropped-params')).toBe('top_k,thinking');
  });

  it('renders errors in Anthropic shape with the matching status', async () => {
    const notFound = await client.messages
      .create({ model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((error: unknown) => error);
    expect(notFound).toBeInstanceOf(Anthropic.NotFoundError);
    expect((notFound as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({
      type: 'error',
      error: { type: 'not_found_error' },
    });

    const limited = await client.messages
      .create({ model: 'openai/sim-rate-limited', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((error: unknown) => error);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect((limited as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after')).toBe('20');

    const invalid = await client.messages
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] } as never)
      .catch((error: unknown) => error);
    expect(invalid).toBeInstanceOf(Anthropic.BadRequestError);
    expect((invalid as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error' },
    });
    expect(String((invalid as Error).message)).toContain('max_tokens');

    const badRole = await client.messages
      .create({ model: 'gpt-4o-mini', max_tokens: 5, messages: [{ role: 'tool', content: 'x' }] } as never)
      .catch((error: unknown) => error);
    expect(badRole).toBeInstanceOf(Anthropic.BadRequestError);

    const unauthenticated = new Anthropic({ apiKey: 'wrong', baseURL: running.url, maxRetries: 0 });
    await expect(
      unauthenticated.messages.create({ model: 'gpt-4o-mini', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('answers malformed requests with 400 in Anthropic shape, never 500', async () => {
    const bodies: unknown[] = [
      { model: 'gpt-4o-mini', max_tokens: '10', messages: [{ role: 'user', content: 'x' }] },
      { model: 'gpt-4o-mini', max_tokens: 10, messages: [] },
      { model: 'gpt-4o-mini', max_tokens: 10, messages: 'hello' },
      { model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 5 }] },
      { model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: [{ text: 'no type' }] }] },
      { model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file' } }] }] },
      { model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'x' }], tools: {} },
      { model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'x' }], tools: [{ description: 'no name' }] },
      { model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'x' }], system: 7 },
      { model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'x' }], stop_sequences: 'END' },
      { model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'x' }], stream: 'yes' },
      { model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'assistant', content: [{ type: 'tool_use', name: 'f' }] }] },
      { model: 7, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] },
      [1, 2],
    ];
    for (const body of bodies) {
      const response = await fetch(`${running.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': 'mg-test-key', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    }
  });

  it('estimates tokens', async () => {
    const counted = await client.messages.countTokens({
      model: 'gpt-4o-mini',
      system: 'abcd',
      messages: [{ role: 'user', content: 'abcdefgh' }],
    });
    expect(counted.input_tokens).toBe(3);
  });
});

describe('Messages API over the native Anthropic provider', () => {
  it('round-trips text, streamed and not', async () => {
    const message = await client.messages.create({
      model: 'anthropic/claude-sonnet-4-5',
      max_tokens: 100,
      system: 'Be brief',
      messages: [{ role: 'user', content: 'Say hi' }],
    });
    expect(message.content.find((block) => block.type === 'text')).toBeDefined();
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    const upstream = anthropic.requests.at(-1)?.body;
    expect(upstream?.system).toBeDefined();
    expect(upstream?.max_tokens).toBe(100);

    const final = await client.messages
      .stream({ model: 'anthropic/claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'Stream please' }] })
      .finalMessage();
    const text = final.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('');
    expect(text).toContain('Stream please');
    expect(final.stop_reason).toBe('end_turn');
  });

  it('uses tools', async () => {
    const { followUp } = await toolRoundTrip('anthropic/claude-sonnet-4-5');
    expect(JSON.stringify(followUp.content)).toContain('sunny');
  });

  it('turns an upstream error mid-stream into an Anthropic error event', async () => {
    const stream = client.messages.stream({
      model: 'anthropic/sim-overloaded-stream',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const failure = await stream.finalMessage().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Anthropic.APIError);
    // Anthropic's own error type survives, so clients retry an overloaded stream as they would upstream.
    expect((failure as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: 'error',
      error: { type: 'overloaded_error' },
    });
  });

  it('keeps signed thinking, native thinking config, top_k and cache_control for the Anthropic provider', async () => {
    const request = {
      model: 'anthropic/claude-sonnet-4-5',
      max_tokens: 4096,
      thinking: { type: 'enabled' as const, budget_tokens: 1024 },
      top_k: 5,
      system: [{ type: 'text' as const, text: 'You are a weather bot', cache_control: { type: 'ephemeral' as const } }],
      tools: [weatherTool],
    };
    const first = await client.messages.stream({ ...request, messages: [{ role: 'user', content: 'Weather in Paris?' }] }).finalMessage();
    const upstream = anthropic.requests.at(-1)?.body;
    expect(upstream?.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
    expect(upstream?.top_k).toBe(5);
    expect(JSON.stringify(upstream?.system)).toContain('ephemeral');
    const thinking = first.content.find((block) => block.type === 'thinking');
    expect(thinking?.type === 'thinking' && thinking.signature).toMatch(/^EqSim/);
    const toolUse = first.content.find((block) => block.type === 'tool_use');
    if (toolUse?.type !== 'tool_use') throw new Error('no tool_use');
    // The simulator rejects a thinking block whose signature does not match its text.
    const second = await client.messages.create({
      ...request,
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: 'sunny' }] },
      ],
    });
    expect(JSON.stringify(second.content)).toContain('sunny');
    const resent = ((anthropic.requests.at(-1)?.body?.messages ?? []) as Json[])[1];
    expect(JSON.stringify(resent)).toContain(String(thinking?.type === 'thinking' && thinking.signature));
  });
});

describe('Messages API usage with prompt caching (native Anthropic provider)', () => {
  it('reports the same usage as Anthropic itself, streamed and not', async () => {
    const body: Anthropic.MessageCreateParamsNonStreaming = {
      model: 'claude-haiku-4-5',
      max_tokens: 50,
      system: [
        { type: 'text', text: 'A long system prompt that is worth caching across calls '.repeat(20), cache_control: { type: 'ephemeral' } },
      ],
      messages: [{ role: 'user', content: 'Cached question' }],
    };
    const first = await client.messages.create({ ...body, model: 'anthropic/claude-haiku-4-5' });
    expect(first.usage.cache_creation_input_tokens).toBeGreaterThan(0);
    const second = await client.messages.create({ ...body, model: 'anthropic/claude-haiku-4-5' });
    const streamed = await client.messages.stream({ ...body, model: 'anthropic/claude-haiku-4-5' }).finalMessage();
    const direct = await new Anthropic({ apiKey: 'sk-ant-upstream', baseURL: anthropic.baseUrl, maxRetries: 0 }).messages.create(body);
    expect(direct.usage.cache_read_input_tokens).toBeGreaterThan(0);
    for (const usage of [second.usage, streamed.usage]) {
      expect(usage).toMatchObject({
        input_tokens: direct.usage.input_tokens,
        output_tokens: direct.usage.output_tokens,
        cache_read_input_tokens: direct.usage.cache_read_input_tokens,
        cache_creation_input_tokens: direct.usage.cache_creation_input_tokens ?? 0,
      });
    }
  });
});

describe('Messages API over the native Gemini provider', () => {
  it('round-trips text and tools, streamed and not', async () => {
    const message = await client.messages.create({
      model: 'gemini/gemini-2.5-flash',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Say hi' }],
    });
    expect(JSON.stringify(message.content)).toContain('Say hi');
    expect(message.stop_reason).toBe('end_turn');

    const { followUp } = await toolRoundTrip('gemini/gemini-2.5-flash');
    expect(followUp.content.length).toBeGreaterThan(0);
  });
});
