/**
 * The pure translators of src/responses/ and src/messages/, on cases the simulators do not produce:
 * truncated output, reasoning, several tool calls in one stream, provider state round trips. Stream
 * events are replayed through the official `openai` SDK's strict Responses accumulator.
 */
import { accumulateResponse } from 'openai/lib/responses/ResponseAccumulator';
import type { Response, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { describe, expect, it } from 'vitest';
import type { Usage } from '../src/core/usage.ts';
import { anthropicStreamErrorBody } from '../src/messages/anthropic-errors.ts';
import { createMessagesStreamTranslator } from '../src/messages/chat-stream-to-messages-events.ts';
import { chatCompletionToMessage } from '../src/messages/chat-to-message.ts';
import { messagesToChatRequest } from '../src/messages/messages-to-chat.ts';
import { createResponsesStreamTranslator } from '../src/responses/chat-stream-to-responses-events.ts';
import { chatCompletionToResponse } from '../src/responses/chat-to-response.ts';
import { itemsToChatMessages, normalizeInputItems } from '../src/responses/responses-to-chat.ts';
import { decodeToolCallId, encodeToolCallId } from '../src/responses/tool-call-ids.ts';

type Json = Record<string, unknown>;

const usage: Usage = { inputTokens: 100, outputTokens: 20, totalTokens: 120, cachedTokens: 60, reasoningTokens: 5, cacheWriteTokens: 10 };
const shell = { id: 'resp_test', createdAt: 1_764_000_000, model: 'some-model', request: { model: 'some-model', input: 'x' } };

function chunk(delta: Json, finishReason: string | null = null): Json {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
}

describe('chat completion -> Response', () => {
  it('marks output cut by the token limit as incomplete and maps usage details', () => {
    const response = chatCompletionToResponse(
      { choices: [{ index: 0, message: { role: 'assistant', content: 'partial', reasoning_content: 'hmm' }, finish_reason: 'length' }] },
      shell,
      usage,
    );
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect((response.output as Json[]).map((item) => item.type)).toEqual(['reasoning', 'message']);
    expect(response.usage).toEqual({
      input_tokens: 100,
      input_tokens_details: { cached_tokens: 60 },
      output_tokens: 20,
      output_tokens_details: { reasoning_tokens: 5 },
      total_tokens: 120,
    });
  });

  it('reports content filtering as incomplete', () => {
    const response = chatCompletionToResponse({ choices: [{ message: { content: null }, finish_reason: 'content_filter' }] }, shell, null);
    expect(response.incomplete_details).toEqual({ reason: 'content_filter' });
    expect(response.usage).toBeNull();
  });
});

describe('chat chunks -> Responses events', () => {
  it('streams reasoning, text and two tool calls that the SDK accumulator accepts', () => {
    const translator = createResponsesStreamTranslator(shell);
    const events = [...translator.start()];
    const chunks = [
      chunk({ role: 'assistant', reasoning_content: 'Thinking' }),
      chunk({ reasoning_content: ' more' }),
      chunk({ content: 'Let me ' }),
      chunk({ content: 'check.' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'first', arguments: '{"a"' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }),
      chunk({
        tool_calls: [
          {
            index: 1,
            id: 'call_b',
            type: 'function',
            function: { name: 'second', arguments: '{}' },
            extra_content: { google: { thought_signature: 'sig/+=' } },
          },
        ],
      }),
      chunk({}, 'tool_calls'),
    ];
    for (const item of chunks) events.push(...translator.add(item));
    const { events: last, response } = translator.finish(usage);
    events.push(...last);

    expect(events.map((event) => event.data.sequence_number)).toEqual(events.map((_event, index) => index));
    expect(events.every((event) => event.event === event.data.type)).toBe(true);
    let snapshot: Response | undefined;
    for (const event of events) snapshot = accumulateResponse(event.data as unknown as ResponseStreamEvent, snapshot);
    expect(snapshot?.status).toBe('completed');
    expect(snapshot?.output.map((item) => item.type)).toEqual(['reasoning', 'message', 'function_call', 'function_call']);
    const output = response.output as Json[];
    expect(output[0]).toMatchObject({ type: 'reasoning', content: [{ type: 'reasoning_text', text: 'Thinking more' }] });
    expect(output[1]).toMatchObject({ type: 'message', status: 'completed', content: [{ type: 'output_text', text: 'Let me check.' }] });
    expect(output[2]).toMatchObject({ type: 'function_call', call_id: 'call_a', name: 'first', arguments: '{"a":1}', status: 'completed' });
    expect(decodeToolCallId(String(output[3]?.call_id))).toEqual({
      id: 'call_b',
      extraContent: { google: { thought_signature: 'sig/+=' } },
    });
    expect(snapshot?.output[2]).toMatchObject({ arguments: '{"a":1}' });
  });

  it('keeps every argument fragment of interleaved tool calls in the final response', () => {
    const translator = createResponsesStreamTranslator(shell);
    translator.start();
    translator.add(chunk({ tool_calls: [{ index: 0, id: 'call_1', function: { name: 'a', arguments: '{"x"' } }] }));
    translator.add(chunk({ tool_calls: [{ index: 1, id: 'call_2', function: { name: 'b', arguments: '{"y"' } }] }));
    translator.add(chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }));
    translator.add(chunk({ tool_calls: [{ index: 1, function: { arguments: ':2}' } }] }, 'tool_calls'));
    const { response } = translator.finish(null);
    expect((response.output as Json[]).map((item) => item.arguments)).toEqual(['{"x":1}', '{"y":2}']);
  });

  it('streams a custom tool call with its raw input', () => {
    const translator = createResponsesStreamTranslator({
      ...shell,
      request: { model: 'm', input: 'x', tools: [{ type: 'custom', name: 'apply_patch' }] },
    });
    const events = [...translator.start()];
    events.push(
      ...translator.add(
        chunk({ tool_calls: [{ index: 0, id: 'call_p', function: { name: 'apply_patch', arguments: '{"input":"*** Begin' } }] }),
      ),
    );
    events.push(...translator.add(chunk({ tool_calls: [{ index: 0, function: { arguments: ' Patch\\n"}' } }] }, 'tool_calls')));
    const { events: last, response } = translator.finish(null);
    events.push(...last);
    let snapshot: Response | undefined;
    for (const event of events) snapshot = accumulateResponse(event.data as unknown as ResponseStreamEvent, snapshot);
    expect(events.map((event) => event.event)).toContain('response.custom_tool_call_input.done');
    expect(response.output).toEqual([
      { id: expect.stringMatching(/^ctc_/), type: 'custom_tool_call', call_id: 'call_p', name: 'apply_patch', input: '*** Begin Patch\n' },
    ]);
    expect(snapshot?.output[0]).toMatchObject({ type: 'custom_tool_call', input: '*** Begin Patch\n' });
  });

  it('ends with response.incomplete when the output was cut', () => {
    const translator = createResponsesStreamTranslator(shell);
    translator.start();
    translator.add(chunk({ content: 'cut' }));
    translator.add(chunk({}, 'length'));
    const { events, response } = translator.finish(null);
    expect(events.at(-1)?.event).toBe('response.incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
  });
});

describe('Responses items -> chat messages', () => {
  it('restores provider state from call ids and merges calls into the assistant turn', () => {
    const callId = encodeToolCallId('call_x', { google: { thought_signature: 'abc' } });
    expect(callId).toMatch(/^[A-Za-z0-9_-]+$/);
    const items = normalizeInputItems([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'Checking' },
      { type: 'function_call', call_id: callId, name: 'f', arguments: '{}' },
      { type: 'function_call_output', call_id: callId, output: [{ type: 'input_text', text: 'done' }] },
    ]);
    expect(items.every((item) => typeof item.id === 'string')).toBe(true);
    expect(itemsToChatMessages(items, [])).toEqual([
      { role: 'user', content: 'hi' },
      {
        role: 'assistant',
        content: 'Checking',
        tool_calls: [
          {
            id: 'call_x',
            type: 'function',
            function: { name: 'f', arguments: '{}' },
            extra_content: { google: { thought_signature: 'abc' } },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_x', content: 'done' },
    ]);
  });
});

describe('Anthropic Messages translation', () => {
  it('renders mid-stream errors with an Anthropic type', () => {
    expect(anthropicStreamErrorBody({ error: { message: 'gone', type: 'upstream_error', code: 'upstream_unreachable' } })).toEqual({
      type: 'error',
      error: { type: 'api_error', message: 'gone' },
    });
    expect(
      anthropicStreamErrorBody({ error: { message: 'slow down', type: 'rate_limit_error', code: 'rate_limit_exceeded' } }).error.type,
    ).toBe('rate_limit_error');
    expect(anthropicStreamErrorBody({ error: { message: 'late', type: 'timeout_error', code: 'upstream_timeout' } }).error.type).toBe(
      'timeout_error',
    );
  });

  it('maps usage the way Anthropic counts it and stop reasons', () => {
    const message = chatCompletionToMessage({ choices: [{ message: { content: 'cut' }, finish_reason: 'length' }] }, 'm', usage);
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.usage).toEqual({ input_tokens: 30, output_tokens: 20, cache_read_input_tokens: 60, cache_creation_input_tokens: 10 });
  });

  it('places tool results before the rest of the user turn and drops what chat cannot carry', () => {
    const dropped: string[] = [];
    const chat = messagesToChatRequest(
      {
        model: 'm',
        max_tokens: 10,
        top_k: 3,
        tools: [{ type: 'web_search_20250305', name: 'web_search' }],
        messages: [
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 't', signature: 's' },
              { type: 'tool_use', id: 'toolu_1', name: 'f', input: { a: 1 } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'also' },
              { type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok', is_error: true },
            ],
          },
        ],
      },
      dropped,
    );
    expect(chat.messages).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'Error: ok' },
      { role: 'user', content: 'also' },
    ]);
    expect(chat).not.toHaveProperty('tools');
    expect([...dropped].sort()).toEqual(['tools.web_search_20250305', 'top_k']);
  });

  it('streams signed thinking and tool input as Anthropic events', () => {
    const translator = createMessagesStreamTranslator('m');
    const events = [...translator.start()];
    events.push(...translator.add(chunk({ reasoning_content: 'plan' })));
    events.push(...translator.add(chunk({ thinking_blocks: [{ type: 'thinking', thinking: 'plan', signature: 'sig' }] })));
    events.push(...translator.add(chunk({ tool_calls: [{ index: 0, id: 'toolu_9', function: { name: 'f', arguments: '{"q":' } }] })));
    events.push(...translator.add(chunk({ tool_calls: [{ index: 0, function: { arguments: '"x"}' } }] }, 'tool_calls')));
    events.push(...translator.finish(usage));
    expect(events.map((event) => (event.data.delta as Json | undefined)?.type ?? event.event)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'thinking_delta',
      'signature_delta',
      'content_block_stop',
      'content_block_start',
      'input_json_delta',
      'input_json_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(translator.message().content).toEqual([
      { type: 'thinking', thinking: 'plan', signature: 'sig' },
      { type: 'tool_use', id: 'toolu_9', name: 'f', input: { q: 'x' } },
    ]);
    expect(translator.message().stop_reason).toBe('tool_use');
  });
});
