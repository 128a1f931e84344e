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
import { toAnthropicRequest } from '../src/providers/anthropic/anthropic-request.ts';
import { finishReasonFromAnthropic, fromAnthropicMessage } from '../src/providers/anthropic/anthropic-response.ts';
import type { Json, } from '../src/providers/types.ts';
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
