/**
 * Pure translation functions of the Anthropic provider, with fixtures in Anthropic's documented wire format:
 * - Messages request/response: https://docs.anthropic.com/en/api/messages
 * - Streaming events: https://docs.anthropic.com/en/docs/build-with-claude/streaming (the "tool use" and
 *   "extended thinking" stream examples are the models for the SSE fixtures below)
 * - Extended thinking: https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking
 * - Prompt caching usage fields: https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching
 */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../src/core/errors.ts';
import { parseSse } from '../src/core/sse.ts';
import { toAnthropicRequest } from '../src/providers/anthropic/anthropic-request.ts';
import { applyReasoningEffort, thinkingStyleFor } from '../src/providers/anthropic/anthropic-thinking.ts';
import { finishReasonFromAnthropic, fromAnthropicMessage } from '../src/providers/anthropic/anthropic-response.ts';
import { createAnthropicStreamTranslator } from '../src/providers/anthropic/anthropic-stream.ts';
import { anthropicHttpError, refusedSamplingParam, refusedThinkingStyle } from '../src/providers/anthropic/create-anthropic-provider.ts';
import type { Json, StreamChunk } from '../src/providers/types.ts';

async function* once(text: string): AsyncGenerator<string> {
  // Split in odd places to exercise SSE reassembly.
  for (let position = 0; position < text.length; position += 37) yield text.slice(position, position + 37);
}

async function translateStream(sse: string, options: { includeUsage?: boolean; jsonToolName?: string | null } = {}) {
  const translator = createAnthropicStreamTranslator({
    created: 1_700_000_000,
    includeUsage: options.includeUsage ?? false,
    jsonToolName: options.jsonToolName ?? null,
    provider: 'anthropic',
  });
  const chunks: StreamChunk[] = [];
  const events: string[] = [];
  for await (const message of parseSse(once(sse))) {
    events.push(message.event ?? '');
    chunks.push(...translator.push(JSON.parse(message.data) as Json));
  }
  return { chunks, parsed: chunks.map((chunk) => JSON.parse(chunk.data) as Json), translator, events };
}

function deltas(parsed: Json[]): Json[] {
  return parsed.flatMap((chunk) => ((chunk.choices as Json[]) ?? []).map((choice) => choice.delta as Json));
}

// Modeled on the documented "streaming request with tool use" example.
const toolUseStream = `event: message_start
data: {"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-sonnet-4-5","stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2},"content":[],"stop_reason":null}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Okay, let's check"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" the weather."}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"location\\":"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \\"San Francisco, CA\\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}

event: message_stop
data: {"type":"message_stop"}

`;

// Modeled on the documented "streaming with extended thinking" example.
const thinkingStream = `event: message_start
data: {"type": "message_start", "message": {"id": "msg_01abc", "type": "message", "role": "assistant", "content": [], "model": "claude-sonnet-4-5", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 20, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 100, "output_tokens": 1}}}

event: content_block_start
data: {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "", "signature": ""}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "Let me solve this step by step:\\n\\n1. First break down 27 * 453"}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "\\n2. 453 = 400 + 50 + 3"}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}

event: content_block_stop
data: {"type": "content_block_stop", "index": 0}

event: content_block_start
data: {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "27 * 453 = 12,231"}}

event: content_block_stop
data: {"type": "content_block_stop", "index": 1}

event: message_delta
data: {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 92}}

event: message_stop
data: {"type": "message_stop"}

`;

describe('toAnthropicRequest', () => {
  it('maps system, developer, multi-turn and defaults max_tokens', () => {
    const { body, droppedParams } = toAnthropicRequest({
      model: 'claude-sonnet-4-5',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Bonjour' },
        { role: 'user', content: 'Weather?' },
      ],
    });
    expect(droppedParams).toEqual([]);
    expect(body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      system: [
        { type: 'text', text: 'You are terse.' },
        { type: 'text', text: 'Answer in French.' },
      ],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'Bonjour' }] },
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
      ],
    });
  });

  it('prefers max_completion_tokens, maps stop, top_p, temperature, user and metadata.user_id', () => {
    const { body } = toAnthropicRequest({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 50,
      max_completion_tokens: 70,
      stop: 'END',
      top_p: 0.5,
      temperature: 0,
      metadata: { user_id: 'u-1' },
      top_k: 5,
    });
    expect(body).toMatchObject({
      max_tokens: 70,
      stop_sequences: ['END'],
      top_p: 0.5,
      temperature: 0,
      metadata: { user_id: 'u-1' },
      top_k: 5,
    });
  });

  it('merges consecutive tool results into one user turn, tool results first, and keeps cache_control', () => {
    const { body } = toAnthropicRequest({
      model: 'm',
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
            { id: 'call_b', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_a', content: 'Sunny' },
        { role: 'tool', tool_call_id: 'call_b', content: [{ type: 'text', text: 'Rain', cache_control: { type: 'ephemeral' } }] },
        { role: 'user', content: 'Thanks', cache_control: { type: 'ephemeral', ttl: '1h' } },
      ],
    });
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'call_a', name: 'get_weather', input: { location: 'Paris' } },
          { type: 'tool_use', id: 'call_b', name: 'get_weather', input: { location: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_a', content: 'Sunny' },
          { type: 'tool_result', tool_use_id: 'call_b', content: [{ type: 'text', text: 'Rain', cache_control: { type: 'ephemeral' } }] },
          { type: 'text', text: 'Thanks', cache_control: { type: 'ephemeral', ttl: '1h' } },
        ],
      },
    ]);
  });

  it('maps images (data and http URLs) and PDF files, and reports what it cannot send', () => {
    const { body, droppedParams } = toAnthropicRequest({
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ', detail: 'high' } },
            { type: 'image_url', image_url: { url: 'https://upload.wikimedia.org/a.jpg' }, cache_control: { type: 'ephemeral' } },
            { type: 'file', file: { filename: 'a.pdf', file_data: 'data:application/pdf;base64,JVBERi0x' } },
            { type: 'input_audio', input_audio: { data: 'AAA', format: 'wav' } },
          ],
        },
      ],
    });
    expect((body.messages as Json[])[0]?.content).toEqual([
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
      { type: 'image', source: { type: 'url', url: 'https://upload.wikimedia.org/a.jpg' }, cache_control: { type: 'ephemeral' } },
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0x' } },
    ]);
    expect(droppedParams).toEqual(['image_url.detail', 'messages[].content.input_audio']);
  });

  it('maps tool definitions and every tool_choice form', () => {
    const tools = [
      {
        type: 'function',
        function: { name: 'f', description: 'd', parameters: { type: 'object', properties: { a: { type: 'string' } } } },
        cache_control: { type: 'ephemeral' },
      },
      { type: 'function', function: { name: 'g' } },
      { type: 'web_search_20250305', name: 'web_search', max_uses: 3 },
    ];
    const base = { model: 'm', messages: [{ role: 'user', content: 'x' }], tools };
    expect(toAnthropicRequest(base).body.tools).toEqual([
      {
        name: 'f',
        description: 'd',
        input_schema: { type: 'object', properties: { a: { type: 'string' } } },
        cache_control: { type: 'ephemeral' },
      },
      { name: 'g', input_schema: { type: 'object', properties: {} } },
      { type: 'web_search_20250305', name: 'web_search', max_uses: 3 },
    ]);
    expect(toAnthropicRequest({ ...base, tool_choice: 'auto' }).body.tool_choice).toEqual({ type: 'auto' });
    expect(toAnthropicRequest({ ...base, tool_choice: 'required' }).body.tool_choice).toEqual({ type: 'any' });
    expect(toAnthropicRequest({ ...base, tool_choice: 'none' }).body.tool_choice).toEqual({ type: 'none' });
    expect(toAnthropicRequest({ ...base, tool_choice: { type: 'function', function: { name: 'g' } } }).body.tool_choice).toEqual({
      type: 'tool',
      name: 'g',
    });
    expect(toAnthropicRequest({ ...base, parallel_tool_calls: false }).body.tool_choice).toEqual({
      type: 'auto',
      disable_parallel_tool_use: true,
    });
    expect(toAnthropicRequest({ ...base, parallel_tool_calls: true }).body.tool_choice).toBeUndefined();
    const allowed = toAnthropicRequest({
      ...base,
      tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'g' } }] } },
    });
    expect(allowed.body.tools).toEqual([{ name: 'g', input_schema: { type: 'object', properties: {} } }]);
    expect(allowed.body.tool_choice).toEqual({ type: 'any' });
    // Legacy functions / function_call.
    const legacy = toAnthropicRequest({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      functions: [{ name: 'h', parameters: { type: 'object' } }],
      function_call: { name: 'h' },
    });
    expect(legacy.body.tools).toEqual([{ name: 'h', input_schema: { type: 'object' } }]);
    expect(legacy.body.tool_choice).toEqual({ type: 'tool', name: 'h' });
  });

  it('turns reasoning_effort into thinking within max_tokens, and restores signed thinking blocks', () => {
    const messages = [
      { role: 'user', content: 'q' },
      {
        role: 'assistant',
        content: 'a',
        reasoning_content: 'hmm',
        thinking_blocks: [
          { type: 'thinking', thinking: 'hmm', signature: 'sig1' },
          { type: 'redacted_thinking', data: 'EmwKAhgB' },
        ],
      },
      { role: 'user', content: 'more' },
    ];
    const high = toAnthropicRequest({ model: 'm', messages, reasoning_effort: 'high', max_completion_tokens: 10000, temperature: 0.5 });
    expect(high.body.thinking).toEqual({ type: 'enabled', budget_tokens: 9999 });
    expect(high.body.temperature).toBeUndefined();
    expect(high.droppedParams).toEqual(['temperature']);
    expect((high.body.messages as Json[])[1]?.content).toEqual([
      { type: 'thinking', thinking: 'hmm', signature: 'sig1' },
      { type: 'redacted_thinking', data: 'EmwKAhgB' },
      { type: 'text', text: 'a' },
    ]);
    const medium = toAnthropicRequest({ model: 'm', messages, reasoning_effort: 'medium' });
    expect(medium.body).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 8192 }, max_tokens: 8192 + 4096 });
    const tooSmall = toAnthropicRequest({ model: 'm', messages, reasoning_effort: 'low', max_tokens: 500 });
    expect(tooSmall.body.thinking).toBeUndefined();
    expect(tooSmall.droppedParams).toEqual(['reasoning_effort']);
    expect(toAnthropicRequest({ model: 'm', messages, reasoning_effort: 'none' }).body.thinking).toBeUndefined();
    const native = toAnthropicRequest({ model: 'm', messages, thinking: { type: 'enabled', budget_tokens: 3000 }, max_tokens: 5000 });
    expect(native.body).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 3000 }, max_tokens: 5000 });
    const unsigned = toAnthropicRequest({
      model: 'm',
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'a', reasoning_content: 'hmm' },
      ],
    });
    expect(unsigned.droppedParams).toEqual(['messages[].reasoning_content']);
    expect(() => toAnthropicRequest({ model: 'm', messages, reasoning_effort: 'extreme' })).toThrow(GatewayError);
  });

  it('chooses the JSON mode strategy: forced tool for json_schema, instruction otherwise', () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
    const forced = toAnthropicRequest({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      response_format: { type: 'json_schema', json_schema: { name: 'a', schema } },
    });
    expect(forced.jsonToolName).toBe('json_response');
    expect(forced.body.tools).toEqual([{ name: 'json_response', description: expect.any(String), input_schema: schema }]);
    expect(forced.body.tool_choice).toEqual({ type: 'tool', name: 'json_response' });
    const withTools = toAnthropicRequest({
      model: 'm',
      messages: [
        { role: 'system', content: 'Be nice' },
        { role: 'user', content: 'x' },
      ],
      tools: [{ type: 'function', function: { name: 'f' } }],
      response_format: { type: 'json_schema', json_schema: { name: 'a', schema } },
    });
    expect(withTools.jsonToolName).toBeNull();
    expect(withTools.body.system).toEqual([
      { type: 'text', text: 'Be nice' },
      { type: 'text', text: expect.stringContaining('"required":["answer"]') },
    ]);
    const jsonObject = toAnthropicRequest({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      response_format: { type: 'json_object' },
    });
    expect(jsonObject.body.system).toContain('valid JSON object');
    expect(
      toAnthropicRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], response_format: { type: 'text' } }).body.system,
    ).toBeUndefined();
  });

  it('reports unmappable and unknown parameters instead of sending them', () => {
    const { body, droppedParams, includeUsage } = toAnthropicRequest({
      model: 'm',
      messages: [{ role: 'user', content: 'x', name: 'bob' }],
      n: 2,
      logprobs: true,
      frequency_penalty: 1,
      some_future_field: 1,
      stream: true,
      stream_options: { include_usage: true },
      metadata: { trace: 'abc' },
      service_tier: 'flex',
    });
    expect(droppedParams.sort()).toEqual([
      'frequency_penalty',
      'logprobs',
      'messages[].name',
      'metadata',
      'n',
      'service_tier',
      'some_future_field',
    ]);
    expect(Object.keys(body).sort()).toEqual(['max_tokens', 'messages', 'model', 'stream']);
    expect(includeUsage).toBe(true);
    // Default values ask for nothing: nothing to report.
    const neutral = toAnthropicRequest({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      n: 1,
      logprobs: false,
      presence_penalty: 0,
      frequency_penalty: 0,
      store: false,
      seed: null,
    });
    expect(neutral.droppedParams).toEqual([]);
  });

  it('rejects malformed input with a 400 naming the parameter', () => {
    const attempt = (body: Json) => {
      try {
        toAnthropicRequest(body);
      } catch (error) {
        return error as GatewayError;
      }
      throw new Error('expected an error');
    };
    expect(
      attempt({ model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x' } }] }] }),
    ).toMatchObject({ status: 400, param: 'messages[0].content[0].image_url' });
    expect(attempt({ model: 'm', messages: [{ role: 'tool', content: 'x' }] })).toMatchObject({
      status: 400,
      param: 'messages[0].tool_call_id',
    });
    expect(attempt({ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: -1 })).toMatchObject({
      status: 400,
      param: 'max_tokens',
    });
    expect(attempt({ model: 'm', messages: [{ role: 'user', content: 'x' }], stop: [1] })).toMatchObject({ status: 400, param: 'stop' });
    expect(attempt({ model: 'm', messages: [{ role: 'alien', content: 'x' }] })).toMatchObject({ status: 400, param: 'messages[0].role' });
    expect(attempt({ model: 'm', messages: [{ role: 'assistant', content: 'x', thinking_blocks: [{ type: 'thinking' }] }] })).toMatchObject(
      { status: 400 },
    );
  });
});

describe('fromAnthropicMessage', () => {
  it('maps thinking, text, tool_use, stop reason and cache usage (documented response shape)', () => {
    const message = {
      id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [
        { type: 'thinking', thinking: 'The user wants weather.', signature: 'WaUjzkypQ2mUEVM36O2TxuC06KN8xyfbJwyem2dw3URve' },
        { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' },
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { location: 'San Francisco, CA' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 10, cache_creation_input_tokens: 200, cache_read_input_tokens: 1000, output_tokens: 40 },
    };
    const { body, usage } = fromAnthropicMessage(message, { created: 1_700_000_000, jsonToolName: null });
    expect(body).toEqual({
      id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'claude-sonnet-4-5',
      choices: [
        {
          index: 0,
          logprobs: null,
          finish_reason: 'tool_calls',
          message: {
            role: 'assistant',
            content: 'Checking.',
            refusal: null,
            reasoning_content: 'The user wants weather.',
            thinking_blocks: [
              { type: 'thinking', thinking: 'The user wants weather.', signature: 'WaUjzkypQ2mUEVM36O2TxuC06KN8xyfbJwyem2dw3URve' },
              { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4a' },
            ],
            tool_calls: [
              {
                id: 'toolu_01A09q90qw90lq917835lq9',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA"}' },
              },
            ],
          },
        },
      ],
      usage: {
        prompt_tokens: 1210,
        completion_tokens: 40,
        total_tokens: 1250,
        prompt_tokens_details: { cached_tokens: 1000, cache_write_tokens: 200 },
      },
    });
    expect(usage).toEqual({
      inputTokens: 1210,
      outputTokens: 40,
      totalTokens: 1250,
      cachedTokens: 1000,
      reasoningTokens: 0,
      cacheWriteTokens: 200,
    });
  });

  it('turns web search citations into url_citation annotations', () => {
    const { body } = fromAnthropicMessage(
      {
        id: 'msg_2',
        model: 'm',
        content: [
          { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'weather' } },
          { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] },
          { type: 'text', text: 'It is ' },
          {
            type: 'text',
            text: 'sunny',
            citations: [
              {
                type: 'web_search_result_location',
                url: 'https://weather.example/paris',
                title: 'Paris weather',
                cited_text: 'Sunny',
                encrypted_index: 'Eo8B',
              },
            ],
          },
        ],
        stop_reason: 'end_turn',
        usage: { input_tokens: 1, output_tokens: 2 },
      },
      { created: 1, jsonToolName: null },
    );
    const message = (body.choices as Json[])[0]?.message as Json;
    expect(message.content).toBe('It is sunny');
    expect(message.annotations).toEqual([
      {
        type: 'url_citation',
        url_citation: { start_index: 6, end_index: 11, url: 'https://weather.example/paris', title: 'Paris weather' },
      },
    ]);
    expect(message.tool_calls).toBeUndefined();
  });

  it('maps every stop reason', () => {
    expect(
      ['end_turn', 'stop_sequence', 'pause_turn', 'max_tokens', 'model_context_window_exceeded', 'tool_use', 'refusal', null].map(
        finishReasonFromAnthropic,
      ),
    ).toEqual(['stop', 'stop', 'stop', 'length', 'length', 'tool_calls', 'content_filter', null]);
  });

  it('turns the forced JSON tool into message content', () => {
    const { body } = fromAnthropicMessage(
      {
        id: 'msg_1',
        model: 'm',
        content: [{ type: 'tool_use', id: 't', name: 'json_response', input: { answer: '42' } }],
        stop_reason: 'tool_use',
        usage: { input_tokens: 1, output_tokens: 2 },
      },
      { created: 1, jsonToolName: 'json_response' },
    );
    const choice = (body.choices as Json[])[0];
    expect(choice?.finish_reason).toBe('stop');
    expect(choice?.message).toEqual({ role: 'assistant', content: '{"answer":"42"}', refusal: null });
  });
});

describe('Anthropic stream translator', () => {
  it('translates the documented tool-use stream, argument deltas included', async () => {
    const { parsed, chunks, translator, events } = await translateStream(toolUseStream);
    expect(events).toContain('ping');
    const all = deltas(parsed);
    expect(all[0]).toEqual({ role: 'assistant', content: '' });
    expect(all.map((delta) => delta.content ?? '').join('')).toBe("Okay, let's check the weather.");
    const toolDeltas = all.flatMap((delta) => (delta.tool_calls as Json[] | undefined) ?? []);
    expect(toolDeltas).toEqual([
      { index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather', arguments: '' } },
      { index: 0, function: { arguments: '{"location":' } },
      { index: 0, function: { arguments: ' "San Francisco, CA"}' } },
    ]);
    const finishes = parsed.flatMap((chunk) => (chunk.choices as Json[]).map((choice) => choice.finish_reason)).filter(Boolean);
    expect(finishes).toEqual(['tool_calls']);
    const last = chunks.at(-1);
    expect(last?.usageOnly).toBe(true);
    expect(JSON.parse(last?.data ?? '{}')).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 472, completion_tokens: 89, total_tokens: 561 },
    });
    expect(
      parsed.every(
        (chunk) =>
          chunk.id === 'msg_014p7gG3wDgGV9EUtLvnow3U' && chunk.object === 'chat.completion.chunk' && chunk.created === 1_700_000_000,
      ),
    ).toBe(true);
    expect(translator.done()).toBe(true);
    expect(translator.usage()).toMatchObject({ inputTokens: 472, outputTokens: 89 });
  });

  it('translates the documented thinking stream: reasoning deltas, then the signed block', async () => {
    const { parsed, chunks } = await translateStream(thinkingStream, { includeUsage: true });
    const all = deltas(parsed);
    expect(all.map((delta) => delta.reasoning_content ?? '').join('')).toBe(
      'Let me solve this step by step:\n\n1. First break down 27 * 453\n2. 453 = 400 + 50 + 3',
    );
    const blocks = all.flatMap((delta) => (delta.thinking_blocks as Json[] | undefined) ?? []);
    expect(blocks).toEqual([
      {
        type: 'thinking',
        thinking: 'Let me solve this step by step:\n\n1. First break down 27 * 453\n2. 453 = 400 + 50 + 3',
        signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds',
      },
    ]);
    expect(all.map((delta) => delta.content ?? '').join('')).toBe('27 * 453 = 12,231');
    // include_usage: every chunk carries usage null and the last one the usage, as OpenAI does.
    expect(parsed.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
    expect(chunks.at(-1)?.usageOnly).toBeUndefined();
    expect(parsed.at(-1)?.usage).toEqual({
      prompt_tokens: 120,
      completion_tokens: 92,
      total_tokens: 212,
      prompt_tokens_details: { cached_tokens: 100 },
    });
  });

  it('streams the forced JSON tool as content', async () => {
    const sse = toolUseStream.replace('"name":"get_weather"', '"name":"json_response"');
    const { parsed } = await translateStream(sse, { jsonToolName: 'json_response' });
    const all = deltas(parsed);
    expect(all.some((delta) => delta.tool_calls !== undefined)).toBe(false);
    expect(all.map((delta) => delta.content ?? '').join('')).toBe('Okay, let\'s check the weather.{"location": "San Francisco, CA"}');
    expect(parsed.flatMap((chunk) => (chunk.choices as Json[]).map((choice) => choice.finish_reason)).filter(Boolean)).toEqual(['stop']);
  });

  it('keeps server tool input out of the client tool calls', async () => {
    const sse = toolUseStream
      .replace(
        '"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}',
        '"content_block":{"type":"server_tool_use","id":"srvtoolu_01","name":"web_search","input":{}}',
      )
      .replace('"stop_reason":"tool_use"', '"stop_reason":"end_turn"');
    const { parsed } = await translateStream(sse);
    const all = deltas(parsed);
    expect(all.some((delta) => delta.tool_calls !== undefined)).toBe(false);
    expect(parsed.flatMap((chunk) => (chunk.choices as Json[]).map((choice) => choice.finish_reason)).filter(Boolean)).toEqual(['stop']);
  });

  it('throws a retryable 503 on an overloaded error event', async () => {
    const sse = `event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}}\n\nevent: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n`;
    await expect(translateStream(sse)).rejects.toMatchObject({ status: 503, code: 'overloaded_error', retryable: true });
  });
});

describe('anthropicHttpError', () => {
  const body = (type: string, message: string) =>
    JSON.stringify({ type: 'error', error: { type, message }, request_id: 'req_011CSHoEeqs5C35K2UUqR7Fy' });

  it('maps the documented error types and statuses', () => {
    expect(anthropicHttpError('anthropic', 529, {}, body('overloaded_error', 'Overloaded'))).toMatchObject({
      status: 503,
      code: 'overloaded_error',
      type: 'overloaded_error',
      retryable: true,
    });
    expect(anthropicHttpError('anthropic', 400, {}, body('invalid_request_error', 'messages: Field required'))).toMatchObject({
      status: 400,
      code: 'invalid_request_error',
      type: 'invalid_request_error',
      retryable: false,
      message: 'anthropic: messages: Field required',
    });
    expect(anthropicHttpError('anthropic', 500, {}, body('api_error', 'Internal server error'))).toMatchObject({
      status: 502,
      retryable: true,
    });
    const limited = anthropicHttpError(
      'anthropic',
      429,
      { 'retry-after': '5', 'anthropic-ratelimit-tokens-remaining': '0', 'request-id': 'r' },
      body('rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'),
    );
    expect(limited).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'rate_limit_error', retryable: true });
    expect(limited.headers).toEqual({ 'retry-after': '5', 'anthropic-ratelimit-tokens-remaining': '0' });
  });
});

describe('refusedSamplingParam', () => {
  it('names the parameter a model refuses, only when the request has it', () => {
    const both = 'anthropic: temperature and top_p cannot both be specified for this model. Please use only one.';
    expect(refusedSamplingParam(both, { temperature: 1, top_p: 0.5 })).toBe('top_p');
    expect(refusedSamplingParam('anthropic: `temperature` is deprecated for this model.', { temperature: 0.2 })).toBe('temperature');
    expect(refusedSamplingParam('anthropic: `temperature` is deprecated for this model.', { top_p: 0.2 })).toBeUndefined();
    expect(refusedSamplingParam('anthropic: messages: Field required', { temperature: 0.2 })).toBeUndefined();
  });
});

describe('thinking style', () => {
  it('guesses adaptive for Claude 4.6 and later from the model id', () => {
    const styles = [
      'claude-3-7-sonnet-20250219',
      'claude-sonnet-4-20250514',
      'claude-sonnet-4-5',
      'claude-opus-4-5-20251101',
      'claude-sonnet-4-6',
      'claude-opus-4-8',
      'claude-fable-5',
      'claude-opus-5-5',
      'my-proxy-model',
    ].map(thinkingStyleFor);
    expect(styles).toEqual(['enabled', 'enabled', 'enabled', 'enabled', 'adaptive', 'adaptive', 'adaptive', 'adaptive', 'enabled']);
  });

  it('maps reasoning_effort to adaptive thinking with output_config.effort, keeping other output_config fields', () => {
    const { body, reasoningEffort } = toAnthropicRequest({
      model: 'claude-sonnet-4-6',
      messages: [{ role: 'user', content: 'x' }],
      reasoning_effort: 'minimal',
      output_config: { format: { type: 'json_schema' } },
    });
    expect(reasoningEffort).toBe('minimal');
    expect(body).toMatchObject({
      thinking: { type: 'adaptive', display: 'summarized' },
      output_config: { format: { type: 'json_schema' }, effort: 'low' },
      max_tokens: 1024 + 4096,
    });
    const switched: Json = { ...body };
    expect(applyReasoningEffort(switched, 'minimal', 'enabled', undefined)).toBe(true);
    expect(switched).toMatchObject({
      thinking: { type: 'enabled', budget_tokens: 1024 },
      output_config: { format: { type: 'json_schema' } },
    });
    expect((switched.output_config as Json).effort).toBeUndefined();
    expect(applyReasoningEffort({}, 'high', 'enabled', 1000)).toBe(false);
  });

  it('reads which style the API asks for from its 400 message', () => {
    expect(
      refusedThinkingStyle(
        'anthropic: "thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.',
      ),
    ).toBe('adaptive');
    expect(refusedThinkingStyle('anthropic: adaptive thinking is not supported on this model')).toBe('enabled');
    expect(refusedThinkingStyle('anthropic: max_tokens: Field required')).toBeUndefined();
  });
});
