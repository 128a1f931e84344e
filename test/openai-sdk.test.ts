/** The official `openai` SDK against the gateway, over the OpenAI simulator. */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

let simulator: Simulator;
let running: RunningGateway;
let client: OpenAI;

beforeAll(async () => {
  simulator = await startOpenAISimulator({ apiKey: 'sk-upstream-secret' });
  running = await startGateway({ OPENAI_API_KEY: 'sk-upstream-secret', OPENAI_BASE_URL: simulator.baseUrl, MODELGATE_MASTER_KEY: 'mg-test-key' });
  client = new OpenAI({ apiKey: 'mg-test-key', baseURL: `${running.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await running?.close();
  await simulator?.close();
});

describe('openai SDK', () => {
  it('creates a chat completion', async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hi' }] });
    expect(completion.choices[0]?.message.content).toBe('Hello from openai: Say hi');
    expect(completion.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
    expect(completion.object).toBe('chat.completion');
  });

  it('streams a chat completion without the injected usage chunk', async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Stream please' }], stream: true });
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      expect(chunk.choices.length).toBe(1);
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe('Hello from openai: Stream please');
    expect(chunks).toBeGreaterThan(3);
    const upstream = simulator.requests.at(-1)?.body;
    expect(upstream?.stream_options).toEqual({ include_usage: true });
  });

  it('streams usage when the client asks for it', async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a b c' }], stream: true, stream_options: { include_usage: true } });
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage).toMatchObject({ prompt_tokens: 3 });
  });

  it('returns tool calls, streamed and not', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } } }];
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Weather?' }], tools });
    expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
    const call = completion.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ location: 'Paris' });

    const stream = client.chat.completions.stream({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Weather?' }], tools });
    const final = await stream.finalChatCompletion();
    const streamedCall = final.choices[0]?.message.tool_calls?.[0];
    expect(streamedCall?.type === 'function' && streamedCall.function.arguments).toBe('{"location":"Paris"}');
  });

  it('passes images, response_format and unknown fields through', async () => {
    await client.chat.completions.create({
      model: 'openai/gpt-4o',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }] }],
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' } } },
      // @ts-expect-error an unknown field must reach the provider untouched
      some_future_field: { nested: [1, 2] },
    });
    const upstream = simulator.requests.at(-1)?.body;
    expect(upstream?.model).toBe('gpt-4o');
    expect(upstream?.some_future_field).toEqual({ nested: [1, 2] });
    expect(upstream?.response_format).toMatchObject({ type: 'json_schema' });
    expect(JSON.stringify(upstream?.messages)).toContain('data:image/png;base64,iVBORw0KGgo=');
  });

  it('creates embeddings (base64 by default in the SDK, and float)', async () => {
    const result = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['hello world', 'bye'] });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]?.embedding).toHaveLength(8);
    expect(result.data[0]?.embedding[0]).toBeCloseTo(0.12, 5);
    const floats = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x', encoding_format: 'float', dimensions: 4 });
    expect(floats.data[0]?.embedding).toEqual([0.02, 0.03, 0.04, 0.05]);
    expect(result.usage.prompt_tokens).toBe(3);
  });

  it('lists models with owned_by = provider', async () => {
    const models: OpenAI.Model[] = [];
    for await (const model of client.models.list()) models.push(model);
    expect(models.map((model) => model.id)).toEqual(['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small']);
    expect(models.every((model) => model.owned_by === 'openai')).toBe(true);
  });
});
