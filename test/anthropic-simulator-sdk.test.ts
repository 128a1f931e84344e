/**
 * The Anthropic provider's configuration (base URL forms, several Anthropic instances) and the Anthropic
 * simulator checked against the official @anthropic-ai/sdk, so the simulator the other tests rely on
 * speaks the real wire format (the provider through the openai SDK: anthropic-provider.test.ts).
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from './helpers/start-gateway.ts';
import { type AnthropicSimulator, startAnthropicSimulator } from './simulators/anthropic-simulator.ts';

let simulator: AnthropicSimulator;

beforeAll(async () => {
  simulator = await startAnthropicSimulator({ apiKey: 'sk-ant-upstream-secret', modelsPageSize: 2 });
});

afterAll(async () => {
  await simulator?.close();
});

describe('anthropic provider configuration', () => {
  it('takes ANTHROPIC_MODELS instead of listing, accepts a base URL ending in /v1, and serves named instances', async () => {
    const other = await startGateway({
      ANTHROPIC_API_KEY: 'sk-ant-upstream-secret',
      ANTHROPIC_BASE_URL: `${simulator.baseUrl}/v1`,
      ANTHROPIC_MODELS: 'claude-static-1',
      ANTHROPIC_WORK_API_KEY: 'sk-ant-upstream-secret',
      ANTHROPIC_WORK_BASE_URL: simulator.baseUrl,
      MODELGATE_MASTER_KEY: 'mg-test-key',
    });
    try {
      const otherClient = new OpenAI({ apiKey: 'mg-test-key', baseURL: `${other.url}/v1`, maxRetries: 0 });
      const models = await otherClient.models.list();
      const byOwner = models.data.map((model) => `${model.owned_by}:${model.id}`);
      expect(byOwner).toContain('anthropic:claude-static-1');
      expect(byOwner).toContain('anthropic-work:claude-haiku-4-5');
      const viaStatic = await otherClient.chat.completions.create({
        model: 'claude-static-1',
        messages: [{ role: 'user', content: 'Hi' }],
      });
      expect(viaStatic.choices[0]?.message.content).toBe('Hello from anthropic: Hi');
      expect(simulator.requests.at(-1)?.path).toBe('/v1/messages');
      const viaNamed = await otherClient.chat.completions.create({
        model: 'anthropic-work/claude-haiku-4-5',
        messages: [{ role: 'user', content: 'Yo' }],
      });
      expect(viaNamed.model).toBe('claude-haiku-4-5');
    } finally {
      await other.close();
    }
  });
});

describe('anthropic simulator against the official @anthropic-ai/sdk', () => {
  it('streams events the SDK assembles into the same message it returns unstreamed', async () => {
    const anthropic = new Anthropic({ apiKey: 'sk-ant-upstream-secret', baseURL: simulator.baseUrl, maxRetries: 0 });
    const request = {
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      thinking: { type: 'enabled' as const, budget_tokens: 1024 },
      tools: [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: { location: { type: 'string' } } } }],
      messages: [{ role: 'user' as const, content: 'Weather in Paris?' }],
    };
    const streamed = await anthropic.messages.stream(request).finalMessage();
    const plain = await anthropic.messages.create(request);
    const withoutIds = (content: Anthropic.ContentBlock[]) =>
      content.map((block) => (block.type === 'tool_use' ? { ...block, id: 'toolu' } : block));
    expect(withoutIds(streamed.content)).toEqual(withoutIds(plain.content));
    expect(streamed.content.map((block) => block.type)).toEqual(['thinking', 'text', 'tool_use']);
    expect(streamed.stop_reason).toBe('tool_use');
    const toolUse = streamed.content.find((block) => block.type === 'tool_use');
    expect(toolUse?.type === 'tool_use' && toolUse.input).toEqual({ location: 'Paris' });
    expect(streamed.usage.output_tokens).toBe(plain.usage.output_tokens);
  });

  it('answers errors the SDK recognizes (529 overloaded, 429 with retry-after)', async () => {
    const anthropic = new Anthropic({ apiKey: 'sk-ant-upstream-secret', baseURL: simulator.baseUrl, maxRetries: 0 });
    const overloaded = await anthropic.messages
      .create({ model: 'sim-overloaded', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((error: unknown) => error);
    expect(overloaded).toBeInstanceOf(Anthropic.APIError);
    expect(overloaded).toMatchObject({ status: 529, error: { type: 'error', error: { type: 'overloaded_error' } } });
    const limited = await anthropic.messages
      .create({ model: 'sim-rate-limited', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((error: unknown) => error);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect((limited as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after')).toBe('17');
    // The SDK sends anthropic-version 2026-10-21, where sampling parameters are gone; the gateway pins 2023-06-01.
    const versioned = await anthropic.messages
      .create({
        model: 'claude-sonnet-4-5',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'x' }],
        temperature: 0.5,
      } as Anthropic.MessageCreateParamsNonStreaming)
      .catch((error: unknown) => error);
    expect(versioned).toBeInstanceOf(Anthropic.BadRequestError);
    const unauthorized = await new Anthropic({ apiKey: 'wrong', baseURL: simulator.baseUrl, maxRetries: 0 }).models
      .list()
      .catch((error: unknown) => error);
    expect(unauthorized).toBeInstanceOf(Anthropic.AuthenticationError);
  });
});
