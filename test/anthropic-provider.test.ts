
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type AnthropicSimulator, startAnthropicSimulator } from './simulators/anthropic-simulator.ts';

let simulator: AnthropicSimulator;
let running: RunningGateway;
let client: OpenAI;

type Json = Record<string, unknown>;

beforeAll(async () => {
  simulator = await startAnthropicSimulator({ apiKey: 'sk-ant-upstream-secret', modelsPageSize: 2 });
  running = await startGateway({
    ANTHROPIC_API_KEY: 'sk-ant-upstream-secret',
    ANTHROPIC_BASE_URL: simulator.baseUrl,
    MODELGATE_MASTER_KEY: 'mg-test-key',
  });
  client = new OpenAI({ apiKey: 'mg-test-key', baseURL: `${running.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await running?.close();
  await simulator?.close();
});

function lastUpstream(): Json {
  const body = simulator.requests.at(-1)?.body;
  if (!body) throw new Error('no upstream request');
  return body;
}

const weatherTool: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { location: { type: 'string' } } },
  },
};
const timeTool: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_time', parameters: { type: 'object', properties: { location: { type: 'string' } } } },
};

describe('anthropic provider through the openai SDK', () => {
  it('lists every page of Anthropic models', async () => {
    const models = await client.models.list();
    const ids = models.data.map((model) => model.id);
    expect(ids).toEqual(expect.arrayContaining(['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1']));
    const listCalls = simulator.requests.filter((request) => request.path === '/v1/models');
    expect(listCalls.some((request) => request.query.get('after_id') !== null)).toBe(true);
  });

  it('creates a chat completion with system, headers and default max_tokens', async () => {
    const completion = await client.chat.completions.create({
      model: 'anthropic/claude-3-7-sonnet',
      messages: [
        { role: 'system', content: 'Be brief' },
        { role: 'user', content: 'Say hi' },
      ],
      temperature: 0.3,
      top_p: 0.9,
      user: 'user-42',
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe('Hello from anthropic: Say hi');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 5, total_tokens: 9 });
    const recorded = simulator.requests.at(-1);
    expect(recorded?.headers['x-api-key']).toBe('sk-ant-upstream-secret');
    expect(recorded?.headers['anthropic-version']).toBe('2023-06-01');
    expect(recorded?.headers.authorization).toBeUndefined();
    expect(lastUpstream()).toEqual({
      model: 'claude-3-7-sonnet',
      max_tokens: 4096,
      system: 'Be brief',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Say hi' }] }],
      temperature: 0.3,
      top_p: 0.9,
      metadata: { user_id: 'user-42' },
    });
  });

  it('streams a chat completion with the usage taken from message_start and message_delta', async () => {
    const stream = await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Stream please now' }],
      stream: true,
      stream_options: { include_usage: true },
      max_completion_tokens: 300,
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Hello from anthropic: Stream please now');
    expect(finish).toBe('stop');
    expect(usage).toEqual({ prompt_tokens: 3, completion_tokens: 6, total_tokens: 9 });
    expect(lastUpstream()).toMatchObject({ stream: true, max_tokens: 300 });
    expect(lastUpstream().stream_options).toBeUndefined();
  });

  it('hides the usage chunk when the client did not ask for it', async () => {
    const stream = await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'x y' }],
      stream: true,
    });
    for await (const chunk of stream) {
      expect(chunk.choices.length).toBe(1);
      expect(chunk.usage).toBeUndefined();
    }
  });

  it('maps tools and tool_choice, and streams tool-call argument deltas', async () => {
    const completion = await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [weatherTool],
      tool_choice: 'required',
      parallel_tool_calls: false,
    });
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ location: 'Paris' });
    expect(call?.id).toMatch(/^toolu_sim/);
    expect(lastUpstream().tools).toEqual([
      {
        name: 'get_weather',
        description: 'Weather for a city',
        input_schema: { type: 'object', properties: { location: { type: 'string' } } },
      },
    ]);
    expect(lastUpstream().tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });

    const stream = await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Use all tools' }],
      tools: [weatherTool, timeTool],
      stream: true,
    });
    const argumentPieces: Record<number, string[]> = {};
    const names: Record<number, string> = {};
    let content = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      content += choice?.delta.content ?? '';
      if (choice?.finish_reason) finish = choice.finish_reason;
      for (const call of choice?.delta.tool_calls ?? []) {
        if (call.function?.name) names[call.index] = call.function.name;
        if (call.function?.arguments) {
          argumentPieces[call.index] ??= [];
          argumentPieces[call.index]?.push(call.function.arguments);
        }
      }
    }
    expect(content).toBe('Let me check that.');
    expect(names).toEqual({ 0: 'get_weather', 1: 'get_time' });
    expect(argumentPieces[0]?.length).toBeGreaterThan(1);
    expect(argumentPieces[0]?.join('')).toBe('{"location":"Paris"}');
    expect(argumentPieces[1]?.join('')).toBe('{"location":"Paris"}');
    expect(finish).toBe('tool_calls');
    expect(lastUpstream().tool_choice).toBeUndefined();
  });

  it('assembles streamed tool calls with the SDK stream helper and sends tool results back', async () => {
    const runner = client.chat.completions.stream({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [weatherTool],
    });
    const final = await runner.finalChatCompletion();
    const message = final.choices[0]?.message;
    const call = message?.tool_calls?.[0];
    if (!message || call?.type !== 'function') throw new Error('expected a function call');
    expect(call.function.arguments).toBe('{"location":"Paris"}');

    const followUp = await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: message.content, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: 'Sunny, 21C' },
      ],
      tools: [weatherTool],
    });
    expect(followUp.choices[0]?.message.content).toBe('Tool said: Sunny, 21C');
    const messages = lastUpstream().messages as Json[];
    expect(messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'text', text: 'Let me check that.' },
        { type: 'tool_use', id: call.id, name: 'get_weather', input: { location: 'Paris' } },
      ],
    });
    expect(messages[2]).toEqual({ role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: 'Sunny, 21C' }] });
  });

  it('sends parallel tool results back in one user turn, before the next user text', async () => {
    const first = await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Use all tools' }],
      tools: [weatherTool, timeTool],
    });
    const message = first.choices[0]?.message;
    const calls = message?.tool_calls ?? [];
    expect(calls.map((call) => call.type === 'function' && call.function.name)).toEqual(['get_weather', 'get_time']);
    const followUp = await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [
        { role: 'user', content: 'Use all tools' },
        { role: 'assistant', content: message?.content ?? null, tool_calls: calls },
        { role: 'tool', tool_call_id: calls[0]?.id ?? '', content: 'Sunny' },
        { role: 'tool', tool_call_id: calls[1]?.id ?? '', content: 'Noon' },
        { role: 'user', content: 'Summarize' },
      ],
      tools: [weatherTool, timeTool],
    });
    expect(followUp.choices[0]?.message.content).toBe('Tool said: Sunny');
    const userTurn = (lastUpstream().messages as Json[])[2];
    expect(((userTurn?.content ?? []) as Json[]).map((block) => block.type)).toEqual(['tool_result', 'tool_result', 'text']);
  });

  it('sends images as base64 and url sources', async () => {
    await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare these' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
    expect((lastUpstream().messages as Json[])[0]?.content).toEqual([
      { type: 'text', text: 'Compare these' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  it('maps stop sequences and max_tokens to finish reasons', async () => {
    const stopped = await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'one two three' }],
      stop: ['two'],
    });
    expect(stopped.choices[0]?.finish_reason).toBe('stop');
    expect(stopped.choices[0]?.message.content).toBe('Hello from anthropic: one ');
    expect(lastUpstream().stop_sequences).toEqual(['two']);

    const cut = await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'one two three' }],
      max_tokens: 2,
    });
    expect(cut.choices[0]?.finish_reason).toBe('length');
    expect(cut.choices[0]?.message.content).toBe('Hello from ');
  });

  it('preserves cache_control and reports cache write then read tokens', async () => {
    const longSystem = 'You are a meticulous assistant who answers questions about the weather in great detail';
    const request = {
      model: 'claude-sonnet-4-5',
      messages: [
        { role: 'system', content: [{ type: 'text', text: longSystem, cache_control: { type: 'ephemeral' } }] },
        { role: 'user', content: 'Hi there' },
      ],
    } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;
    const first = await client.chat.completions.create(request);
    expect(lastUpstream().system).toEqual([{ type: 'text', text: longSystem, cache_control: { type: 'ephemeral' } }]);
    // 14 words of system (the cached prefix) + 2 of user; Anthropic reports input_tokens 2 and the prefix apart.
    expect(first.usage).toMatchObject({ prompt_tokens: 16, prompt_tokens_details: { cached_tokens: 0, cache_write_tokens: 14 } });

    const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage).toMatchObject({ prompt_tokens: 16, prompt_tokens_details: { cached_tokens: 14 } });
    expect((usage as unknown as Json).prompt_tokens_details).not.toHaveProperty('cache_write_tokens');
  });

  it('turns reasoning_effort into thinking and round-trips the signed thinking blocks', async () => {
    const first = await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Why is the sky blue' }],
      reasoning_effort: 'low',
      temperature: 0.2,
    });
    expect(lastUpstream().thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
    expect(lastUpstream().max_tokens).toBe(2048 + 4096);
    expect(lastUpstream().temperature).toBeUndefined();
    const message = first.choices[0]?.message as OpenAI.ChatCompletionMessage & { reasoning_content?: string; thinking_blocks?: Json[] };
    expect(message.reasoning_content).toBe('Let me think about: Why is the sky blue');
    expect(message.thinking_blocks?.[0]).toMatchObject({ type: 'thinking', thinking: 'Let me think about: Why is the sky blue' });

    // Streamed: reasoning deltas, then the whole signed block.
    const stream = await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Why is the sky blue' }],
      reasoning_effort: 'low',
      stream: true,
    });
    let reasoning = '';
    let streamedBlocks: Json[] = [];
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta as (Json & { reasoning_content?: string; thinking_blocks?: Json[] }) | undefined;
      reasoning += delta?.reasoning_content ?? '';
      if (delta?.thinking_blocks) streamedBlocks = streamedBlocks.concat(delta.thinking_blocks);
    }
    expect(reasoning).toBe('Let me think about: Why is the sky blue');
    expect(streamedBlocks).toEqual(message.thinking_blocks);

    const second = await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [
        { role: 'user', content: 'Why is the sky blue' },
        {
          role: 'assistant',
          content: message.content,
          thinking_blocks: message.thinking_blocks,
        } as OpenAI.ChatCompletionAssistantMessageParam,
        { role: 'user', content: 'And sunsets' },
      ],
      reasoning_effort: 'low',
    });
    expect(second.choices[0]?.message.content).toBe('Hello from anthropic: And sunsets');
    const assistant = (lastUpstream().messages as Json[])[1];
    expect(((assistant?.content ?? []) as Json[])[0]).toEqual(message.thinking_blocks?.[0]);

    // A tampered signature is refused by the upstream and the client sees Anthropic's message.
    const tampered = { ...message.thinking_blocks?.[0], thinking: 'something else' };
    await expect(
      client.chat.completions.create({
        model: 'claude-sonnet-4-5',
        messages: [
          { role: 'user', content: 'Why' },
          { role: 'assistant', content: 'x', thinking_blocks: [tampered] } as OpenAI.ChatCompletionAssistantMessageParam,
          { role: 'user', content: 'Again' },
        ],
      }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringContaining('Invalid `signature`') });
  });

  it('uses adaptive thinking with an effort for Claude 4.6 and later, and switches style when the API refuses it', async () => {
    const before = simulator.requests.length;
    const completion = await client.chat.completions.create({
      model: 'anthropic/claude-opus-4-8',
      messages: [{ role: 'user', content: 'Think hard' }],
      reasoning_effort: 'high',
    });
    const message = completion.choices[0]?.message as OpenAI.ChatCompletionMessage & {
      reasoning_content?: string;
      thinking_blocks?: Json[];
    };
    expect(message.reasoning_content).toBe('Let me think about: Think hard');
    expect(simulator.requests.length - before).toBe(2 - 1);
    expect(lastUpstream()).toMatchObject({
      thinking: { type: 'adaptive', display: 'summarized' },
      output_config: { effort: 'high' },
      max_tokens: 16384 + 4096,
    });

    // A model id that says nothing about its generation: `enabled` is tried first, refused, then adaptive.
    const { data, response } = await client.chat.completions
      .create({
        model: 'anthropic/sim-adaptive-only',
        messages: [{ role: 'user', content: 'Think' }],
        reasoning_effort: 'low',
        max_completion_tokens: 3000,
      })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('Hello from anthropic: Think');
    expect(response.headers.get('x-modelgate-dropped-params')).toBeNull();
    const attempts = simulator.requests
      .slice(-2)
      .map((request) => [request.body?.thinking, request.body?.output_config, request.body?.max_tokens]);
    expect(attempts).toEqual([
      [{ type: 'enabled', budget_tokens: 2048 }, undefined, 3000],
      [{ type: 'adaptive', display: 'summarized' }, { effort: 'low' }, 3000],
    ]);
  });

  it('serves response_format json_schema through a forced tool, streamed and not', async () => {
    const responseFormat = {
      type: 'json_schema' as const,
      json_schema: { name: 'place', schema: { type: 'object', properties: { location: { type: 'string' } } } },
    };
    const completion = await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Where?' }],
      response_format: responseFormat,
    });
    expect(completion.choices[0]?.message.content).toBe('{"location":"Paris"}');
    expect(completion.choices[0]?.message.tool_calls).toBeUndefined();
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(lastUpstream().tool_choice).toEqual({ type: 'tool', name: 'json_response' });

    const stream = await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Where?' }],
      response_format: responseFormat,
      stream: true,
    });
    let content = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta.content ?? '';
      expect(chunk.choices[0]?.delta.tool_calls).toBeUndefined();
      if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
    }
    expect(JSON.parse(content)).toEqual({ location: 'Paris' });
    expect(finish).toBe('stop');

    await client.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Where?' }],
      response_format: { type: 'json_object' },
    });
    expect(String(lastUpstream().system)).toContain('valid JSON object');
  });

  it('asks again without the sampling parameter a model refuses, and reports it', async () => {
    const before = simulator.requests.length;
    const { data, response } = await client.chat.completions
      .create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hi' }], temperature: 0.2, top_p: 0.8 })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('Hello from anthropic: Hi');
    expect(response.headers.get('x-modelgate-dropped-params')).toBe('top_p');
    const attempts = simulator.requests.slice(before).map((request) => request.body);
    expect(attempts.map((body) => [body?.temperature, body?.top_p])).toEqual([
      [0.2, 0.8],
      [0.2, undefined],
    ]);

    const stream = await client.chat.completions
      .create({ model: 'anthropic/sim-no-temperature', messages: [{ role: 'user', content: 'Hi' }], temperature: 0.2, stream: true })
      .withResponse();
    expect(stream.response.headers.get('x-modelgate-dropped-params')).toBe('temperature');
    let text = '';
    for await (const chunk of stream.data) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Hello from anthropic: Hi');
  });

  it('reports parameters it cannot map in X-Modelgate-Dropped-Params', async () => {
    const { response } = await client.chat.completions
      .create({
        model: 'claude-sonnet-4-5',
        messages: [{ role: 'user', content: 'Hi' }],
        presence_penalty: 0.5,
        logit_bias: { '50256': -100 },
        seed: 7,
      })
      .withResponse();
    expect(response.headers.get('x-modelgate-dropped-params')?.split(',').sort()).toEqual(['logit_bias', 'presence_penalty', 'seed']);
    const upstream = lastUpstream();
    expect(upstream.presence_penalty).toBeUndefined();
    expect(upstream.seed).toBeUndefined();
  });

  it('maps 429 with retry-after and rate-limit headers', async () => {
    const response = await fetch(`${running.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer mg-test-key', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'anthropic/sim-rate-limited', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('17');
    expect(response.headers.get('anthropic-ratelimit-requests-remaining')).toBe('0');
    const body = (await response.json()) as { error: Json };
    expect(body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(String(body.error.message)).toContain('rate limit');
    expect(JSON.stringify(body)).not.toContain('sk-ant-upstream-secret');
  });

  it('maps 529 overloaded to a retryable 503, including an error event that opens the stream', async () => {
    await expect(
      client.chat.completions.create({ model: 'anthropic/sim-overloaded', messages: [{ role: 'user', content: 'Hi' }] }),
    ).rejects.toMatchObject({
      status: 503,
      type: 'overloaded_error',
      code: 'overloaded_error',
    });
    await expect(
      client.chat.completions.create({
        model: 'anthropic/sim-overloaded-stream-start',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
      }),
    ).rejects.toMatchObject({ status: 503, code: 'overloaded_error' });
  });

  it('ends a stream with an error when Anthropic sends an error event mid-stream', async () => {
    const stream = await client.chat.completions.create({
      model: 'anthropic/sim-overloaded-stream',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    let text = '';
    await expect(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })(),
    ).rejects.toThrow(/Overloaded/);
    expect(text).toBe('Hello from anthropic: Hi');
  });

  it('cancels the upstream request when the client goes away mid-stream', async () => {
    const controller = new AbortController();
    const response = await fetch(`${running.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer mg-test-key', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'anthropic/sim-hang-stream', messages: [{ role: 'user', content: 'Hi' }], stream: true }),
      signal: controller.signal,
    });
    const reader = response.body?.getReader();
    let received = '';
    while (!received.includes('partial')) {
      const next = await reader?.read();
      if (!next || next.done) break;
      received += new TextDecoder().decode(next.value);
    }
    expect(received).toContain('"content":"partial"');
    controller.abort();
    await simulator.waitForAbort();
    expect(simulator.requests.some((request) => request.body?.model === 'sim-hang-stream' && request.aborted)).toBe(true);
  });

  it('answers embeddings with a clear OpenAI-shaped error', async () => {
    await expect(client.embeddings.create({ model: 'anthropic/claude-sonnet-4-5', input: 'hello' })).rejects.toMatchObject({
      status: 400,
      code: 'embeddings_not_supported',
      message: expect.stringContaining('no embeddings API'),
    });
  });

  it('rejects malformed tool arguments with a 400 naming the parameter', async () => {
    await expect(
      client.chat.completions.create({
        model: 'claude-sonnet-4-5',
        messages: [
          { role: 'user', content: 'x' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{not json' } }],
          },
          { role: 'tool', tool_call_id: 'call_1', content: 'r' },
        ],
      }),
    ).rejects.toMatchObject({ status: 400, param: 'messages[1].tool_calls[0].function.arguments' });
  });
});
