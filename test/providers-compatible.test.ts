/**
 * Each OpenAI-compatible provider's quirks, checked on the wire against simulators: auth headers, URL layout,
 * stream usage, dropped parameters, model lists, named instances and model resolution.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallOutcome } from '../src/core/outcome.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, type SimulatorFlavor, startOpenAISimulator } from './simulators/openai-simulator.ts';

const simulators = new Map<string, Simulator>();
let running: RunningGateway;
let client: OpenAI;
const outcomes: CallOutcome[] = [];

async function sim(name: string, flavor: SimulatorFlavor, apiKey: string | undefined, models: string[]): Promise<Simulator> {
  const simulator = await startOpenAISimulator({ flavor, ...(apiKey ? { apiKey } : {}), models });
  simulators.set(name, simulator);
  return simulator;
}

beforeAll(async () => {
  const openai = await sim('openai', 'openai', 'sk-openai', ['gpt-4o-mini', 'shared-model']);
  const groq = await sim('groq', 'groq', 'gsk-groq', ['llama-3.3-70b-versatile', 'shared-model']);
  const mistral = await sim('mistral', 'mistral', 'mistral-key', ['mistral-small-latest']);
  const zai = await sim('zai', 'zai', 'zai-key', ['glm-4.6']);
  const azure = await sim('azure', 'azure', 'azure-key', []);
  const openrouter = await sim('openrouter', 'openrouter', 'or-key', ['openai/gpt-4o', 'anthropic/claude-sonnet-4']);
  const ollama = await sim('ollama', 'ollama', undefined, ['llama3.2']);
  const oracle = await sim('oracle', 'oracle', 'oci-key', ['ignored-because-oracle-has-no-list']);
  const xai = await sim('xai', 'xai', 'xai-key', ['grok-4']);
  const deepseek = await sim('deepseek', 'deepseek', 'ds-key', ['deepseek-chat']);
  const vllm = await sim('vllm', 'openai', 'vllm-key', ['meta-llama/Llama-3.1-8B-Instruct']);
  running = await startGateway({
    OPENAI_API_KEY: 'sk-openai',
    OPENAI_BASE_URL: openai.baseUrl,
    GROQ_API_KEY: 'gsk-groq',
    GROQ_BASE_URL: groq.baseUrl,
    MISTRAL_API_KEY: 'mistral-key',
    MISTRAL_BASE_URL: mistral.baseUrl,
    ZAI_API_KEY: 'zai-key',
    ZAI_BASE_URL: zai.baseUrl,
    AZURE_OPENAI_API_KEY: 'azure-key',
    AZURE_BASE_URL: azure.baseUrl,
    AZURE_MODELS: 'my-gpt4o-deployment',
    OPENROUTER_API_KEY: 'or-key',
    OPENROUTER_BASE_URL: openrouter.baseUrl,
    OPENROUTER_SITE_URL: 'https://example.test/app',
    OPENROUTER_APP_NAME: 'Modelgate Tests',
    OLLAMA_BASE_URL: ollama.baseUrl,
    ORACLE_API_KEY: 'oci-key',
    ORACLE_BASE_URL: oracle.baseUrl,
    ORACLE_MODELS: 'cohere.command-r-plus, meta.llama-3.1-405b-instruct',
    XAI_API_KEY: 'xai-key',
    XAI_BASE_URL: xai.baseUrl,
    DEEPSEEK_API_KEY: 'ds-key',
    DEEPSEEK_BASE_URL: deepseek.baseUrl,
    OPENAI_VLLM_API_KEY: 'vllm-key',
    OPENAI_VLLM_BASE_URL: vllm.baseUrl,
  });
  running.gateway.bus.subscribe((outcome) => outcomes.push(outcome));
  client = new OpenAI({ apiKey: 'unused', baseURL: `${running.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await running?.close();
  for (const simulator of simulators.values()) await simulator.close();
});

function lastChat(name: string) {
  const simulator = simulators.get(name);
  const found = simulator?.requests.filter((request) => request.method === 'POST').at(-1);
  if (!found) throw new Error(`no request reached ${name}`);
  return found;
}

async function streamText(model: string): Promise<{ text: string; usageChunks: number; requestId: string | null }> {
  const { data: stream, response } = await client.chat.completions
    .create({ model, messages: [{ role: 'user', content: 'count to three' }], stream: true })
    .withResponse();
  let text = '';
  let usageChunks = 0;
  for await (const chunk of stream) {
    if (chunk.choices.length === 0) usageChunks += 1;
    text += chunk.choices[0]?.delta.content ?? '';
  }
  return { text, usageChunks, requestId: response.headers.get('x-request-id') };
}

async function outcomeFor(requestId: string | null): Promise<CallOutcome> {
  await expect.poll(() => outcomes.some((outcome) => outcome.requestId === requestId)).toBe(true);
  return outcomes.find((outcome) => outcome.requestId === requestId) as CallOutcome;
}

describe('model list and resolution', () => {
  it('merges every provider list with owned_by = provider', async () => {
    const models: OpenAI.Model[] = [];
    for await (const model of client.models.list()) models.push(model);
    const byOwner = (owner: string) => models.filter((model) => model.owned_by === owner).map((model) => model.id);
    expect(byOwner('openai')).toEqual(['gpt-4o-mini', 'shared-model']);
    expect(byOwner('groq')).toEqual(['llama-3.3-70b-versatile', 'groq/shared-model']);
    expect(byOwner('oracle')).toEqual(['cohere.command-r-plus', 'meta.llama-3.1-405b-instruct']);
    expect(byOwner('azure')).toEqual(['my-gpt4o-deployment']);
    expect(byOwner('openai-vllm')).toEqual(['meta-llama/Llama-3.1-8B-Instruct']);
    expect(byOwner('ollama')).toEqual(['llama3.2']);
  });

  it('sends a bare name to the first provider listing it, provider/model to the named one', async () => {
    const bare = await client.chat.completions.create({ model: 'shared-model', messages: [{ role: 'user', content: 'a' }] }).withResponse();
    expect(bare.response.headers.get('x-modelgate-provider')).toBe('openai');
    const named = await client.chat.completions.create({ model: 'groq/shared-model', messages: [{ role: 'user', content: 'a' }] }).withResponse();
    expect(named.response.headers.get('x-modelgate-provider')).toBe('groq');
    expect(lastChat('groq').body?.model).toBe('shared-model');
  });

  it('keeps slashes in model names after the provider prefix (OpenRouter)', async () => {
    await client.chat.completions.create({ model: 'openrouter/anthropic/claude-sonnet-4', messages: [{ role: 'user', content: 'a' }] });
    expect(lastChat('openrouter').body?.model).toBe('anthropic/claude-sonnet-4');
    // A bare OpenRouter id whose prefix is not a provider name resolves through the list.
    await client.chat.completions.create({ model: 'anthropic/claude-sonnet-4', messages: [{ role: 'user', content: 'b' }] });
    expect(lastChat('openrouter').body?.model).toBe('anthropic/claude-sonnet-4');
  });
});

describe('quirks on the wire', () => {
  it('OpenRouter: attribution headers and bearer key', async () => {
    await client.chat.completions.create({ model: 'openrouter/openai/gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    const request = lastChat('openrouter');
    expect(request.headers['http-referer']).toBe('https://example.test/app');
    expect(request.headers['x-title']).toBe('Modelgate Tests');
    expect(request.headers.authorization).toBe('Bearer or-key');
  });

  it('Azure: deployment URL, api-key header, default api-version 2024-10-21', async () => {
    const completion = await client.chat.completions.create({ model: 'my-gpt4o-deployment', messages: [{ role: 'user', content: 'hi azure' }] });
    expect(completion.choices[0]?.message.content).toBe('Hello from azure: hi azure');
    const request = lastChat('azure');
    expect(request.path).toBe('/openai/deployments/my-gpt4o-deployment/chat/completions');
    expect(request.query.get('api-version')).toBe('2024-10-21');
    expect(request.headers['api-key']).toBe('azure-key');
    expect(request.headers.authorization).toBeUndefined();
    const stream = await streamText('azure/my-gpt4o-deployment');
    expect(stream.text).toBe('Hello from azure: count to three');
  });

  it('Ollama: no authorization header at all', async () => {
    await client.chat.completions.create({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] });
    expect(lastChat('ollama').headers.authorization).toBeUndefined();
  });

  it('Groq: unsupported parameters are dropped and reported; usage read from the stream', async () => {
    const { response } = await client.chat.completions
      .create({ model: 'llama-3.3-70b-versatile', messages: [{ role: 'user', content: 'hi' }], logit_bias: { '50256': -100 }, logprobs: true, temperature: 0.2 })
      .withResponse();
    expect(response.headers.get('x-modelgate-dropped-params')).toBe('logprobs,logit_bias');
    const sent = lastChat('groq').body ?? {};
    expect(sent.logit_bias).toBeUndefined();
    expect(sent.logprobs).toBeUndefined();
    expect(sent.temperature).toBe(0.2);
    const streamed = await streamText('llama-3.3-70b-versatile');
    expect(streamed.usageChunks).toBe(0);
    expect((await outcomeFor(streamed.requestId)).usage).toMatchObject({ inputTokens: 3, outputTokens: 6 });
  });

  it('Mistral: no stream_options upstream (it would be rejected), usage from the last chunk', async () => {
    const streamed = await streamText('mistral-small-latest');
    expect(streamed.text).toBe('Hello from mistral: count to three');
    expect(lastChat('mistral').body?.stream_options).toBeUndefined();
    expect((await outcomeFor(streamed.requestId)).usage).toMatchObject({ inputTokens: 3, outputTokens: 6, totalTokens: 9 });
  });

  it('Mistral: a stream_options the client sent is dropped and reported', async () => {
    const { response } = await client.chat.completions
      .create({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'x' }], stream: true, stream_options: { include_usage: true } })
      .withResponse();
    expect(response.headers.get('x-modelgate-dropped-params')).toBe('stream_options');
  });

  it('Z.ai: usage from the last chunk', async () => {
    const streamed = await streamText('glm-4.6');
    expect(lastChat('zai').body?.stream_options).toBeUndefined();
    expect((await outcomeFor(streamed.requestId)).usage).toMatchObject({ inputTokens: 3, outputTokens: 6 });
  });

  for (const [name, model] of [
    ['xai', 'grok-4'],
    ['deepseek', 'deepseek-chat'],
    ['oracle', 'cohere.command-r-plus'],
    ['vllm', 'openai-vllm/meta-llama/Llama-3.1-8B-Instruct'],
  ] as const) {
    it(`${name}: chat and stream with injected usage, stripped for the client`, async () => {
      const completion = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
      expect(completion.choices[0]?.message.content).toContain('hi');
      const streamed = await streamText(model);
      expect(streamed.text).toContain('count to three');
      expect(streamed.usageChunks).toBe(0);
      expect(lastChat(name).body?.stream_options).toEqual({ include_usage: true });
      expect(lastChat(name).headers.authorization).toMatch(/^Bearer /);
      expect((await outcomeFor(streamed.requestId)).usage).toMatchObject({ inputTokens: 3, outputTokens: 6 });
    });
  }
});
