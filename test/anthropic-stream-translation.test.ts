/**
 * The Anthropic provider's stream translator and error mapping, with fixtures in Anthropic's documented
 * wire format (request and response translation: anthropic-translation.test.ts):
 * - Streaming events: https://docs.anthropic.com/en/docs/build-with-claude/streaming (the "tool use" and
 *   "extended thinking" stream examples are the models for the SSE fixtures below)
 * - Extended thinking: https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking
 * - Errors: https://docs.anthropic.com/en/api/errors
 */
import { describe, expect, it } from 'vitest';
import { parseSse } from '../src/core/sse.ts';
import { toAnthropicRequest } from '../src/providers/anthropic/anthropic-request.ts';
import { applyReasoningEffort, thinkingStyleFor } from '../src/providers/anthropic/anthropic-thinking.ts';
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
