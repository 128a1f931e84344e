/**
 * The Responses API through the official `openai` SDK: native (OpenAI simulator's /v1/responses)
 * and translated through chat (Groq flavour), streaming and not, tools, function_call_output
 * follow-ups, previous_response_id, retrieve, delete and input items, stored in SQLite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallOutcome } from '../src/core/outcome.ts';
import { createResponsesExtension } from '../src/responses/responses-extension.ts';
import { createStorageExtension } from '../src/storage/storage-extension.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type AnthropicSimulator, startAnthropicSimulator } from './simulators/anthropic-simulator.ts';
import { type GeminiSimulator, startGeminiSimulator } from './simulators/gemini-simulator.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

let openai: Simulator;
let groq: Simulator;
let local: Simulator;
let xai: Simulator;
let anthropic: AnthropicSimulator;
let gemini: GeminiSimulator;
let running: RunningGateway;
let client: OpenAI;
let directory: string;

const weatherTool: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather for a place',
  parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  strict: false,
};

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'modelgate-responses-'));
  openai = await startOpenAISimulator({ apiKey: 'sk-openai' });
  groq = await startOpenAISimulator({ flavor: 'groq', apiKey: 'gsk-groq', models: ['llama-3.3-70b'] });
  local = await startOpenAISimulator({ apiKey: 'sk-local', models: ['local-model'], responsesApi: false });
  xai = await startOpenAISimulator({ flavor: 'xai', apiKey: 'xai-key', models: ['grok-4'] });
  anthropic = await startAnthropicSimulator({ apiKey: 'sk-ant-upstream' });
  gemini = await startGeminiSimulator({ apiKey: 'AIza-upstream' });
  const logger = pino({ level: 'silent' });
  running = await startGateway(
    {
      OPENAI_API_KEY: 'sk-openai',
      OPENAI_BASE_URL: openai.baseUrl,
      GROQ_API_KEY: 'gsk-groq',
      GROQ_BASE_URL: groq.baseUrl,
      OPENAI_LOCAL_API_KEY: 'sk-local',
      OPENAI_LOCAL_BASE_URL: local.baseUrl,
      XAI_API_KEY: 'xai-key',
      XAI_BASE_URL: xai.baseUrl,
      ANTHROPIC_API_KEY: 'sk-ant-upstream',
      ANTHROPIC_BASE_URL: anthropic.baseUrl,
      GEMINI_API_KEY: 'AIza-upstream',
      GEMINI_BASE_URL: gemini.baseUrl,
      MODELGATE_MASTER_KEY: 'mg-test-key',
      SQLITE_PATH: join(directory, 'gateway.db'),
    },
    { extensions: [createStorageExtension(), createResponsesExtension(logger)] },
  );
  client = new OpenAI({ apiKey: 'mg-test-key', baseURL: `${running.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await running?.close();
  await openai?.close();
  await groq?.close();
  await local?.close();
  await xai?.close();
  await anthropic?.close();
  await gemini?.close();
  if (directory) rmSync(directory, { recursive: true, force: true });
});

describe('Responses API translated through chat (groq)', () => {
  it('creates a response from a string input, with instructions and parameters', async () => {
    const response = await client.responses.create({
      model: 'groq/llama-3.3-70b',
      input: 'Say hi',
      instructions: 'Be brief',
      max_output_tokens: 50,
      temperature: 0.2,
      metadata: { ticket: '42' },
      text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true } },
    });
    expect(response.object).toBe('response');
    expect(response.id).toMatch(/^resp_/);
    expect(response.status).toBe('completed');
    expect(response.output_text).toBe('Hello from groq: Say hi');
    expect(response.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed' });
    expect(response.usage).toMatchObject({ input_tokens: 4, output_tokens: 5, total_tokens: 9 });
    expect(response.usage?.input_tokens_details.cached_tokens).toBe(0);
    expect(response.metadata).toEqual({ ticket: '42' });
    const upstream = groq.requests.at(-1)?.body;
    expect(upstream?.messages).toEqual([
      { role: 'system', content: 'Be brief' },
      { role: 'user', content: 'Say hi' },
    ]);
    expect(upstream?.max_tokens).toBe(50);
    expect(upstream?.temperature).toBe(0.2);
    expect(upstream?.response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'answer', schema: { type: 'object' }, strict: true },
    });
    expect(upstream).not.toHaveProperty('metadata');
    expect(upstream).not.toHaveProperty('input');
  });

  it('translates input items: images, function calls and their outputs', async () => {
    const response = await client.responses.create({
      model: 'groq/llama-3.3-70b',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is this' },
            { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' },
          ],
        },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"location":"Paris"}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'sunny' },
      ],
      tools: [weatherTool],
      tool_choice: { type: 'function', name: 'get_weather' },
    });
    expect(response.output_text).toBe('Tool said: sunny');
    const upstream = groq.requests.at(-1)?.body;
    expect(upstream?.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
    ]);
    expect(upstream?.tools).toEqual([
      {
        type: 'function',
        function: { name: 'get_weather', description: 'Weather for a place', parameters: weatherTool.parameters, strict: false },
      },
    ]);
    expect(upstream?.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } });
  });

  it('returns function_call items and continues with function_call_output and previous_response_id', async () => {
    const first = await client.responses.create({ model: 'groq/llama-3.3-70b', input: 'Weather in Paris?', tools: [weatherTool] });
    const call = first.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"location":"Paris"}', status: 'completed' });
    if (call?.type !== 'function_call') throw new Error('no function call');
    expect(call.call_id).toMatch(/^call_sim/);

    const second = await client.responses.create({
      model: 'groq/llama-3.3-70b',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '22 degrees' }],
      tools: [weatherTool],
    });
    expect(second.output_text).toBe('Tool said: 22 degrees');
    expect(second.previous_response_id).toBe(first.id);
    const messages = groq.requests.at(-1)?.body?.messages as Record<string, unknown>[];
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool']);
    expect(messages[0]).toEqual({ role: 'user', content: 'Weather in Paris?' });
    expect(messages[1]?.tool_calls).toEqual([
      { id: call.call_id, type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
    ]);

    const third = await client.responses.create({ model: 'groq/llama-3.3-70b', previous_response_id: second.id, input: 'Thanks' });
    expect(third.output_text).toBe('Hello from groq: Thanks');
    const history = groq.requests.at(-1)?.body?.messages as Record<string, unknown>[];
    expect(history.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'user']);
    expect(history[3]).toEqual({ role: 'assistant', content: 'Tool said: 22 degrees' });
  });

  it('streams text events in the documented order with sequence numbers', async () => {
    const stream = await client.responses.create({ model: 'groq/llama-3.3-70b', input: 'Stream please', stream: true });
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_event, index) => index));
    const types = events.map((event) => event.type);
    expect(types.slice(0, 4)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
    ]);
    expect(types.slice(-4)).toEqual([
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const text = events.flatMap((event) => (event.type === 'response.output_text.delta' ? [event.delta] : [])).join('');
    expect(text).toBe('Hello from groq: Stream please');
    const completed = events.at(-1);
    if (completed?.type !== 'response.completed') throw new Error('no completed event');
    expect(completed.response.usage).toMatchObject({ input_tokens: 2, output_tokens: 5 });
    expect(completed.response.output[0]).toMatchObject({
      type: 'message',
      content: [{ type: 'output_text', text: 'Hello from groq: Stream please' }],
    });

    const stored = await client.responses.retrieve(completed.response.id);
    expect(stored.output_text).toBe('Hello from groq: Stream please');
  });

  it('streams function calls through the SDK stream helper', async () => {
    const stream = client.responses.stream({ model: 'groq/llama-3.3-70b', input: 'Weather?', tools: [weatherTool] });
    const deltas: string[] = [];
    stream.on('response.function_call_arguments.delta', (event) => deltas.push(event.delta));
    const final = await stream.finalResponse();
    expect(deltas.join('')).toBe('{"location":"Paris"}');
    const call = final.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({ name: 'get_weather', arguments: '{"location":"Paris"}', status: 'completed' });
  });

  it('offers custom (freeform) tools as functions and returns custom_tool_call items, streamed and not', async () => {
    const patchTool: OpenAI.Responses.CustomTool = {
      type: 'custom',
      name: 'apply_patch',
      description: 'Apply a patch',
      format: { type: 'grammar', syntax: 'lark', definition: 'start: /.+/' },
    };
    const created = await client.responses.create({ model: 'groq/llama-3.3-70b', input: 'Patch it', tools: [patchTool] });
    const call = created.output[0];
    expect(call).toMatchObject({ type: 'custom_tool_call', name: 'apply_patch', input: '{"location":"Paris"}' });
    const upstreamTool = ((groq.requests.at(-1)?.body?.tools ?? []) as Record<string, Record<string, unknown>>[])[0];
    expect(upstreamTool?.function).toMatchObject({ name: 'apply_patch', parameters: { type: 'object', required: ['input'] } });
    expect(String(upstreamTool?.function?.description)).toContain('start: /.+/');

    const streamed = await client.responses.stream({ model: 'groq/llama-3.3-70b', input: 'Patch it', tools: [patchTool] }).finalResponse();
    expect(streamed.output[0]).toMatchObject({ type: 'custom_tool_call', name: 'apply_patch', input: '{"location":"Paris"}' });
    if (call?.type !== 'custom_tool_call') throw new Error('no custom tool call');

    const followUp = await client.responses.create({
      model: 'groq/llama-3.3-70b',
      previous_response_id: created.id,
      input: [{ type: 'custom_tool_call_output', call_id: call.call_id, output: 'patched' }],
      tools: [patchTool],
    });
    expect(followUp.output_text).toBe('Tool said: patched');
    const messages = groq.requests.at(-1)?.body?.messages as Record<string, unknown>[];
    expect(messages[1]?.tool_calls).toEqual([
      {
        id: call.call_id,
        type: 'function',
        function: { name: 'apply_patch', arguments: JSON.stringify({ input: '{"location":"Paris"}' }) },
      },
    ]);
    expect(messages[2]).toEqual({ role: 'tool', tool_call_id: call.call_id, content: 'patched' });
  });

  it('retrieves, lists input items of, and deletes a stored response', async () => {
    const created = await client.responses.create({
      model: 'groq/llama-3.3-70b',
      input: [
        { role: 'user', content: 'one' },
        { role: 'assistant', content: 'two' },
        { role: 'user', content: 'three' },
      ],
    });
    const retrieved = await client.responses.retrieve(created.id);
    expect(retrieved.id).toBe(created.id);
    expect(retrieved.output_text).toBe('Hello from groq: three');

    const page = await client.responses.inputItems.list(created.id, { limit: 2, order: 'asc' });
    expect(page.data).toHaveLength(2);
    expect(page.has_more).toBe(true);
    const first = page.data[0];
    expect(first?.type === 'message' && first.role).toBe('user');
    const all: OpenAI.Responses.ResponseItem[] = [];
    for await (const item of client.responses.inputItems.list(created.id, { limit: 1 })) all.push(item);
    expect(all).toHaveLength(3);
    const newestFirst = all[0];
    expect(newestFirst?.type === 'message' && JSON.stringify(newestFirst.content)).toContain('three');

    const deleted = await client.responses.delete(created.id);
    expect(deleted).toEqual({ id: created.id, object: 'response', deleted: true });
    await expect(client.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
    const raw = await fetch(`${running.url}/v1/responses/${created.id}`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer mg-test-key' },
    });
    expect(raw.status).toBe(404);
  });

  it('answers DELETE with the documented body', async () => {
    const created = await client.responses.create({ model: 'groq/llama-3.3-70b', input: 'bye' });
    const raw = await fetch(`${running.url}/v1/responses/${created.id}`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer mg-test-key' },
    });
    expect(raw.status).toBe(200);
    expect(await raw.json()).toEqual({ id: created.id, object: 'response', deleted: true });
  });

  it('does not store a response with store: false', async () => {
    const created = await client.responses.create({ model: 'groq/llama-3.3-70b', input: 'forget me', store: false });
    expect((created as unknown as { store: boolean }).store).toBe(false);
    await expect(client.responses.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
  });

  it('rejects bad requests with OpenAI-shaped errors', async () => {
    await expect(
      client.responses.create({ model: 'groq/llama-3.3-70b', input: 'x', previous_response_id: 'resp_missing' }),
    ).rejects.toMatchObject({
      status: 400,
      code: 'previous_response_not_found',
    });
    await expect(client.responses.create({ model: 'groq/llama-3.3-70b', input: [{ type: 'bogus' } as never] })).rejects.toMatchObject({
      status: 400,
    });
    await expect(client.responses.create({ model: 'no-such-model', input: 'x' })).rejects.toMatchObject({ status: 404 });
    await expect(client.responses.create({ model: 'groq/sim-rate-limited', input: 'x' })).rejects.toMatchObject({ status: 429 });
  });

  it('answers malformed requests with 400, never 500', async () => {
    const bodies: unknown[] = [
      { model: 'groq/llama-3.3-70b' },
      { model: 'groq/llama-3.3-70b', input: 5 },
      { model: 'groq/llama-3.3-70b', input: [5] },
      { model: 'groq/llama-3.3-70b', input: [{ role: 'tool', content: 'x' }] },
      { model: 'groq/llama-3.3-70b', input: [{ role: 'user', content: 5 }] },
      { model: 'groq/llama-3.3-70b', input: [{ role: 'user', content: [{ type: 'input_audio' }] }] },
      { model: 'groq/llama-3.3-70b', input: [{ type: 'function_call', name: 'f' }] },
      { model: 'groq/llama-3.3-70b', input: [{ type: 'function_call_output', output: 'x' }] },
      { model: 'groq/llama-3.3-70b', input: 'x', tools: {} },
      { model: 'groq/llama-3.3-70b', input: 'x', tools: [{ type: 'function' }] },
      { model: 'groq/llama-3.3-70b', input: 'x', instructions: 5 },
      { model: 'groq/llama-3.3-70b', input: 'x', stream: 'yes' },
      { model: 'groq/llama-3.3-70b', input: 'x', previous_response_id: 5 },
      { model: 5, input: 'x' },
      'just a string',
    ];
    for (const body of bodies) {
      const response = await fetch(`${running.url}/v1/responses`, {
        method: 'POST',
        headers: { authorization: 'Bearer mg-test-key', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    }
    const badLimit = await fetch(`${running.url}/v1/responses/resp_x/input_items?limit=0`, {
      headers: { authorization: 'Bearer mg-test-key' },
    });
    expect(badLimit.status).toBe(404);
  });

  it('reports non-function tools and OpenAI-only parameters as dropped', async () => {
    const raw = await fetch(`${running.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: 'Bearer mg-test-key', 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'groq/llama-3.3-70b',
        input: 'x',
        tools: [{ type: 'web_search' }],
        text: { verbosity: 'low' },
        prompt_cache_key: 'k',
      }),
    });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('x-modelgate-dropped-params')?.split(',').sort()).toEqual([
      'prompt_cache_key',
      'text.verbosity',
      'tools.web_search',
    ]);
    expect(groq.requests.at(-1)?.body).not.toHaveProperty('verbosity');
  });
});

describe('Responses API native (OpenAI)', () => {
  it('passes the request through and stores the upstream response', async () => {
    const response = await client.responses.create({
      model: 'gpt-4o-mini',
      input: 'Say hi',
      instructions: 'Be brief',
      metadata: { a: 'b' },
    });
    expect(response.id).toMatch(/^resp_sim/);
    expect(response.output_text).toBe('Hello from openai: Say hi');
    const upstream = openai.requests.at(-1);
    expect(upstream?.path).toBe('/v1/responses');
    expect(upstream?.body).toMatchObject({ model: 'gpt-4o-mini', input: 'Say hi', instructions: 'Be brief', metadata: { a: 'b' } });
    const retrieved = await client.responses.retrieve(response.id);
    expect(retrieved.output_text).toBe('Hello from openai: Say hi');
    const items = await client.responses.inputItems.list(response.id);
    expect(items.data).toHaveLength(1);
  });

  it('streams native events and stores the completed response', async () => {
    const stream = client.responses.stream({ model: 'gpt-4o-mini', input: 'Stream natively' });
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('Hello from openai: Stream natively');
    const retrieved = await client.responses.retrieve(final.id);
    expect(retrieved.usage?.input_tokens).toBe(2);
  });

  it('passes previous_response_id upstream for its own responses, with tools', async () => {
    const first = await client.responses.create({ model: 'gpt-4o-mini', input: 'Weather?', tools: [weatherTool] });
    const call = first.output[0];
    if (call?.type !== 'function_call') throw new Error('expected a function call');
    const second = await client.responses.create({
      model: 'gpt-4o-mini',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: 'rain' }],
      tools: [weatherTool],
    });
    expect(second.output_text).toBe('Tool said: rain');
    expect(openai.requests.at(-1)?.body?.previous_response_id).toBe(first.id);
  });

  it('uses xAI natively too, streamed, and relays upstream errors with their status', async () => {
    const final = await client.responses.stream({ model: 'xai/grok-4', input: 'Grok this' }).finalResponse();
    expect(final.output_text).toBe('Hello from xai: Grok this');
    expect(xai.requests.at(-1)?.path).toBe('/v1/responses');
    expect((await client.responses.retrieve(final.id)).output_text).toBe('Hello from xai: Grok this');
    const limited = await client.responses.create({ model: 'openai/sim-rate-limited', input: 'x' }).catch((error: unknown) => error);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as InstanceType<typeof OpenAI.RateLimitError>).headers?.get('retry-after')).toBe('20');
  });

  it('ends a native stream that breaks with a numbered error event', async () => {
    const raw = await fetch(`${running.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: 'Bearer mg-test-key', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/sim-broken-stream', input: 'Hi', stream: true }),
    });
    const text = await raw.text();
    const events = [...text.matchAll(/^data: (.+)$/gm)].map((match) => JSON.parse(match[1] ?? '{}') as Record<string, unknown>);
    expect(events.map((event) => event.type)).toEqual(['response.created', 'error']);
    expect(events[1]).toMatchObject({ sequence_number: 1, code: 'upstream_unreachable' });
  });

  it('translates through chat when the upstream has no Responses API, and remembers it', async () => {
    const response = await client.responses.create({ model: 'local-model', input: 'Fallback please' });
    expect(response.output_text).toBe('Hello from openai: Fallback please');
    expect(local.requests.slice(-2).map((recorded) => recorded.path)).toEqual(['/v1/responses', '/v1/chat/completions']);
    expect((await client.responses.retrieve(response.id)).output_text).toBe('Hello from openai: Fallback please');
    // The missing endpoint is remembered for the provider: the next call pays no extra 404 round trip.
    const before = local.requests.length;
    const again = await client.responses.create({ model: 'local-model', input: 'Again' });
    expect(again.output_text).toBe('Hello from openai: Again');
    expect(local.requests.slice(before).map((recorded) => recorded.path)).toEqual(['/v1/chat/completions']);
  });

  it('returns a genuine 404 for an unknown upstream model instead of translating', async () => {
    const before = openai.requests.length;
    await expect(client.responses.create({ model: 'openai/no-such-upstream-model', input: 'x' })).rejects.toMatchObject({ status: 404 });
    expect(openai.requests.slice(before).map((recorded) => recorded.path)).toEqual(['/v1/responses']);
    // OpenAI keeps its native endpoint afterwards.
    await client.responses.create({ model: 'gpt-4o-mini', input: 'still native' });
    expect(openai.requests.at(-1)?.path).toBe('/v1/responses');
  });

  it('expands a response made by another provider into the native input', async () => {
    const first = await client.responses.create({ model: 'groq/llama-3.3-70b', input: 'Remember blue' });
    await client.responses.create({ model: 'gpt-4o-mini', previous_response_id: first.id, input: 'What colour?' });
    const upstream = openai.requests.at(-1)?.body;
    expect(upstream).not.toHaveProperty('previous_response_id');
    expect(upstream?.input).toEqual([
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Remember blue' }] },
      {
        type: 'message',
        role: 'assistant',
        content: [{ type: 'output_text', text: 'Hello from groq: Remember blue', annotations: [], logprobs: [] }],
      },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What colour?' }] },
    ]);
  });
});

describe('Responses API over the native Anthropic and Gemini providers', () => {
  it('creates and streams responses through the Anthropic provider', async () => {
    const response = await client.responses.create({
      model: 'anthropic/claude-sonnet-4-5',
      input: 'Say hi',
      instructions: 'Be brief',
      max_output_tokens: 200,
    });
    expect(response.status).toBe('completed');
    expect(response.output_text).toContain('Say hi');
    const upstream = anthropic.requests.at(-1)?.body;
    expect(upstream?.max_tokens).toBe(200);
    expect(JSON.stringify(upstream?.system)).toContain('Be brief');

    const final = await client.responses
      .stream({ model: 'anthropic/claude-sonnet-4-5', input: 'Stream please', max_output_tokens: 200 })
      .finalResponse();
    expect(final.output_text).toContain('Stream please');
    expect(final.usage?.input_tokens).toBeGreaterThan(0);
  });

  it('hands signed thinking back to Anthropic across a tool call with previous_response_id', async () => {
    const first = await client.responses
      .stream({
        model: 'anthropic/claude-sonnet-4-5',
        input: 'Weather in Paris?',
        tools: [weatherTool],
        reasoning: { effort: 'low' },
        max_output_tokens: 4096,
      })
      .finalResponse();
    const reasoning = first.output.find((item) => item.type === 'reasoning');
    expect(reasoning?.type === 'reasoning' && reasoning.encrypted_content).toMatch(/^mgthink_/);
    const call = first.output.find((item) => item.type === 'function_call');
    if (call?.type !== 'function_call') throw new Error('no function call');
    // The simulator rejects a history whose thinking block lost its signature.
    const second = await client.responses.create({
      model: 'anthropic/claude-sonnet-4-5',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: 'sunny' }],
      tools: [weatherTool],
      reasoning: { effort: 'low' },
      max_output_tokens: 4096,
    });
    expect(second.output_text).toContain('sunny');
    const assistant = ((anthropic.requests.at(-1)?.body?.messages ?? []) as Record<string, unknown>[])[1];
    expect(JSON.stringify(assistant)).toContain('EqSim');
  });

  it('keeps Gemini thought signatures across a tool call with previous_response_id', async () => {
    const first = await client.responses
      .stream({ model: 'gemini/gemini-2.5-flash', input: 'Weather in Paris?', tools: [weatherTool] })
      .finalResponse();
    const call = first.output.find((item) => item.type === 'function_call');
    if (call?.type !== 'function_call') throw new Error('no function call');
    expect(call.name).toBe('get_weather');
    // Gemini rejects a function call sent back without its thought signature.
    const second = await client.responses.create({
      model: 'gemini/gemini-2.5-flash',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: 'sunny' }],
      tools: [weatherTool],
    });
    expect(second.status).toBe('completed');
    expect(second.output.length).toBeGreaterThan(0);
  });
});

describe('Responses API records and failures', () => {
  it('emits one outcome per call with endpoint responses and usage', async () => {
    const outcomes: CallOutcome[] = [];
    const unsubscribe = running.gateway.bus.subscribe((outcome) => outcomes.push(outcome));
    try {
      await client.responses.create({ model: 'groq/llama-3.3-70b', input: 'count me' });
      const stream = await client.responses.create({ model: 'gpt-4o-mini', input: 'count me too', stream: true });
      for await (const _event of stream) {
        // drain
      }
    } finally {
      unsubscribe();
    }
    expect(outcomes.map((outcome) => [outcome.endpoint, outcome.provider, outcome.stream, outcome.status])).toEqual([
      ['responses', 'groq', false, 200],
      ['responses', 'openai', true, 200],
    ]);
    expect(outcomes[0]?.usage).toMatchObject({ inputTokens: 2, outputTokens: 5 });
    expect(outcomes[1]?.usage).toMatchObject({ inputTokens: 3 });
  });

  it('ends a translated stream that fails upstream with error and response.failed events', async () => {
    const raw = await fetch(`${running.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: 'Bearer mg-test-key', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'anthropic/sim-overloaded-stream', input: 'Hi', stream: true }),
    });
    expect(raw.status).toBe(200);
    const text = await raw.text();
    const names = [...text.matchAll(/^event: (.+)$/gm)].map((match) => match[1]);
    expect(names[0]).toBe('response.created');
    expect(names.slice(-2)).toEqual(['error', 'response.failed']);
    const sequence = [...text.matchAll(/"sequence_number":(\d+)/g)].map((match) => Number(match[1]));
    expect(sequence).toEqual(sequence.map((_value, index) => index));
  });
});
