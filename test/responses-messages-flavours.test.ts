/**
 * The Responses API (openai SDK) and the Messages API (@anthropic-ai/sdk), streamed, with tools, over
 * every OpenAI-compatible flavour the OpenAI simulator speaks — each flavour's quirks included
 * (Mistral rejects unknown fields, Z.ai and Mistral send usage without stream_options, Azure's
 * deployment URLs, Ollama without a key).
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { startGateway } from './helpers/start-gateway.ts';
import { type SimulatorFlavor, startOpenAISimulator } from './simulators/openai-simulator.ts';

const flavours: SimulatorFlavor[] = ['groq', 'mistral', 'zai', 'ollama', 'deepseek', 'openrouter', 'azure'];

describe.each(flavours)('Responses and Messages over %s', (flavor) => {
  it('streams text and tool calls through both APIs', async () => {
    const keyless = flavor === 'ollama';
    const simulator = await startOpenAISimulator(keyless ? { flavor, models: ['m1'] } : { flavor, apiKey: 'upstream-key', models: ['m1'] });
    const upper = flavor.toUpperCase();
    const env: Record<string, string> = { [`${upper}_BASE_URL`]: simulator.baseUrl };
    if (flavor === 'azure') {
      env.AZURE_OPENAI_API_KEY = 'upstream-key';
      env.AZURE_MODELS = 'm1';
    } else if (!keyless) env[`${upper}_API_KEY`] = 'upstream-key';
    const running = await startGateway(env);
    try {
      const openai = new OpenAI({ apiKey: 'unused', baseURL: `${running.url}/v1`, maxRetries: 0 });
      const anthropic = new Anthropic({ apiKey: 'unused', baseURL: running.url, maxRetries: 0 });
      const model = `${flavor}/m1`;

      const text = await openai.responses.stream({ model, input: 'Hello there' }).finalResponse();
      expect(text.output_text).toBe(`Hello from ${flavor}: Hello there`);
      expect(text.usage?.input_tokens).toBe(2);
      const call = await openai.responses
        .stream({
          model,
          input: 'Weather?',
          user: 'someone',
          tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: {} }, strict: false }],
        })
        .finalResponse();
      expect(call.output.find((item) => item.type === 'function_call')).toMatchObject({
        name: 'get_weather',
        arguments: '{"location":"Paris"}',
      });

      const message = await anthropic.messages
        .stream({ model, max_tokens: 20, messages: [{ role: 'user', content: 'Hi you' }], metadata: { user_id: 'someone' } })
        .finalMessage();
      expect(message.content).toEqual([{ type: 'text', text: `Hello from ${flavor}: Hi you` }]);
      expect(message.usage.input_tokens).toBe(2);
      const toolUse = await anthropic.messages
        .stream({
          model,
          max_tokens: 20,
          messages: [{ role: 'user', content: 'Weather?' }],
          tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
        })
        .finalMessage();
      expect(toolUse.stop_reason).toBe('tool_use');
      expect(toolUse.content.find((block) => block.type === 'tool_use')).toMatchObject({
        name: 'get_weather',
        input: { location: 'Paris' },
      });
    } finally {
      await running.close();
      await simulator.close();
    }
  });
});
