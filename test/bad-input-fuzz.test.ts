/**
 * Malformed requests of many shapes against every endpoint and every translation path (OpenAI-compatible,
 * Anthropic, Gemini, Responses, Messages): the gateway must answer each with a well-formed error (or a success),
 * never a 500, a crash or a hang. Inputs come from a seeded generator, so a failure replays exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from './helpers/seeded-random.ts';
import { startThreeProviderGateway, type ThreeProviderGateway } from './helpers/three-provider-gateway.ts';

let gateway: ThreeProviderGateway;

beforeAll(async () => {
  gateway = await startThreeProviderGateway();
});

afterAll(async () => {
  await gateway?.close();
});

const odd: unknown[] = [null, true, 0, -1, 1.5, 1e308, '', 'x', '{}', [], [null], {}, { a: 1 }, [[]], { type: 42 }, { text: null }];

function value(random: () => number, depth: number): unknown {
  const pick = random();
  if (depth <= 0 || pick < 0.55) return odd[Math.floor(random() * odd.length)];
  if (pick < 0.78) return Array.from({ length: Math.floor(random() * 3) }, () => value(random, depth - 1));
  const keys = ['role', 'content', 'type', 'text', 'image_url', 'url', 'tool_calls', 'function', 'name', 'arguments', 'id', 'source', 'input', 'tool_use_id', 'cache_control', 'thinking_blocks', 'parameters'];
  const object: Record<string, unknown> = {};
  for (let index = 0; index < 1 + Math.floor(random() * 4); index++) {
    object[keys[Math.floor(random() * keys.length)] ?? 'x'] = value(random, depth - 1);
  }
  return object;
}

function pickFrom<T>(random: () => number, items: T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function plausibleConversation(endpoint: string, body: Record<string, unknown>, random: () => number): void {
  const part = () =>
    pickFrom(random, [
      { type: 'text', text: 'hi' },
      { type: 'image_url', image_url: value(random, 2) },
      { type: 'image_url', image_url: { url: pickFrom(random, ['data:image/png;base64,iVBORw0KGgo=', 'https://example.com/a.png', 'data:nonsense', '']) } },
      { type: 'image', source: value(random, 2) },
      { type: 'tool_use', id: 'toolu_1', name: 'f', input: value(random, 2) },
      { type: 'tool_result', tool_use_id: value(random, 1), content: value(random, 2) },
      { type: 'input_text', text: value(random, 1) },
      { type: 'thinking', thinking: 'x', signature: value(random, 1) },
      value(random, 2),
    ]);
  const content = () => (random() < 0.3 ? 'hello' : random() < 0.5 ? Array.from({ length: 1 + Math.floor(random() * 3) }, part) : value(random, 2));
  if (endpoint === '/v1/chat/completions') {
    body.messages = Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
      const message: Record<string, unknown> = { role: pickFrom(random, ['system', 'developer', 'user', 'assistant', 'tool']), content: content() };
      if (random() < 0.3) message.tool_calls = [{ id: 'call_1', type: 'function', function: { name: value(random, 1), arguments: pickFrom(random, ['{', '{}', '[]', value(random, 1)]) } }];
      if (random() < 0.2) message.tool_call_id = value(random, 1);
      if (random() < 0.2) message.thinking_blocks = value(random, 2);
      return message;
    });
  } else if (endpoint === '/v1/messages') {
    body.max_tokens = pickFrom(random, [16, 0, -5, 'ten', 1e9]);
    body.messages = Array.from({ length: 1 + Math.floor(random() * 4) }, () => ({ role: pickFrom(random, ['user', 'assistant', 'system']), content: content() }));
  } else if (endpoint === '/v1/responses') {
    body.input = random() < 0.3
      ? 'hello'
      : Array.from({ length: 1 + Math.floor(random() * 3) }, () =>
          pickFrom(random, [
            { role: pickFrom(random, ['user', 'assistant', 'system', 'developer']), content: content() },
            { type: 'function_call', call_id: value(random, 1), name: value(random, 1), arguments: value(random, 1) },
            { type: 'function_call_output', call_id: value(random, 1), output: value(random, 2) },
            { type: 'message', role: 'user', content: content() },
            value(random, 2),
          ]),
        );
  }
}

const models = ['gpt-4o-mini', 'claude-sonnet-4-5', 'gemini-2.5-flash'];
const fieldsByEndpoint: Record<string, string[]> = {
  '/v1/chat/completions': ['messages', 'tools', 'tool_choice', 'response_format', 'stop', 'max_tokens', 'temperature', 'stream', 'stream_options', 'reasoning_effort', 'n', 'parallel_tool_calls'],
  '/v1/embeddings': ['input', 'dimensions', 'encoding_format'],
  '/v1/responses': ['input', 'instructions', 'tools', 'tool_choice', 'text', 'reasoning', 'max_output_tokens', 'stream', 'previous_response_id', 'store'],
  '/v1/messages': ['messages', 'system', 'tools', 'tool_choice', 'max_tokens', 'stop_sequences', 'thinking', 'stream', 'metadata'],
};

describe('seeded malformed requests', () => {
  for (const [endpoint, fields] of Object.entries(fieldsByEndpoint)) {
    it(`${endpoint}: 150 malformed bodies, no 500 and always a well-formed answer`, async () => {
      const random = createRandom((Number(process.env.FUZZ_SEED ?? 0) * 104_729 + endpoint.length) * 7919);
      const statuses = new Map<number, number>();
      for (let index = 0; index < 150; index++) {
        const body: Record<string, unknown> = { model: models[index % models.length] };
        for (const field of fields) if (random() < 0.2) body[field] = value(random, 3);
        // Half the time the conversation is well-formed at the top (roles, arrays), so the malformed parts
        // inside reach the translators rather than the first validation.
        if (random() < 0.5) plausibleConversation(endpoint, body, random);
        const response = await fetch(`${gateway.running.url}${endpoint}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await response.text();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        const context = `${endpoint} #${index} ${JSON.stringify(body)} -> ${response.status} ${text.slice(0, 300)}`;
        expect(response.status, context).not.toBe(500);
        if (response.status >= 400) {
          const parsed = JSON.parse(text) as { error?: { message?: unknown } };
          expect(typeof parsed.error?.message, context).toBe('string');
        }
      }
      if (process.env.FUZZ_REPORT) console.log(endpoint, Object.fromEntries(statuses));
      // The generator must actually produce rejected input, or this test proves nothing.
      expect([...statuses.keys()].some((status) => status >= 400 && status < 500)).toBe(true);
    });
  }
});
