/**
 * Passthrough `/p/{provider}/...` under governance: each call passes the pipeline as an opaque call, so a
 * managed key's model allow/deny lists and rate limits apply (the official openai and @anthropic-ai/sdk
 * clients pointed at /p/openai and /p/anthropic, and a native Gemini path), refusals come in the provider's
 * own error shape and never reach the upstream. The Gemini API inbound is refused the same way (Google-shaped).
 */
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type AnthropicSimulator, startAnthropicSimulator } from './simulators/anthropic-simulator.ts';
import { type GeminiSimulator, startGeminiSimulator } from './simulators/gemini-simulator.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'mg-passthrough-governance-master';
let openai: Simulator;
let anthropic: AnthropicSimulator;
let gemini: GeminiSimulator;
let backend: StorageBackend;
let running: RunningGateway;

async function createKey(fields: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${running.url}/admin/api/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${masterKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(fields),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { key: string }).key;
}

beforeAll(async () => {
  openai = await startOpenAISimulator({ apiKey: 'sk-upstream-openai' });
  anthropic = await startAnthropicSimulator({ apiKey: 'sk-ant-upstream' });
  gemini = await startGeminiSimulator({ apiKey: 'gemini-upstream-key' });
  backend = createBackend('sqlite');
  running = await startGateway({
    ...backend.env,
    MODELGATE_MASTER_KEY: masterKey,
    OPENAI_API_KEY: 'sk-upstream-openai',
    OPENAI_BASE_URL: openai.baseUrl,
    ANTHROPIC_API_KEY: 'sk-ant-upstream',
    ANTHROPIC_BASE_URL: anthropic.baseUrl,
    GEMINI_API_KEY: 'gemini-upstream-key',
    GEMINI_BASE_URL: gemini.baseUrl,
    ENABLED_PASSTHROUGH_PROVIDERS: 'openai,anthropic,gemini',
  });
});

afterAll(async () => {
  await running?.close();
  await Promise.all([openai?.close(), anthropic?.close(), gemini?.close()]);
  await backend?.cleanup();
});

const hello = [{ role: 'user' as const, content: 'hello' }];

describe('model lists on passthrough', () => {
  it('refuses a model the key denies on /p/openai/v1/chat/completions, before the upstream, and allows the others', async () => {
    const key = await createKey({ name: 'no gpt-4o', denied_models: ['gpt-4o'] });
    const client = new OpenAI({ apiKey: key, baseURL: `${running.url}/p/openai/v1`, maxRetries: 0 });
    const before = openai.requests.length;
    const error = await client.chat.completions.create({ model: 'gpt-4o', messages: hello }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((error as InstanceType<typeof OpenAI.PermissionDeniedError>).code).toBe('model_not_allowed');
    const streamed = await client.chat.completions.create({ model: 'gpt-4o', messages: hello, stream: true }).catch((caught: unknown) => caught);
    expect(streamed).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(openai.requests.length).toBe(before);
    const allowed = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
    expect(allowed.choices[0]?.message.content).toContain('hello');
    // The same key on the ordinary API is refused the same model.
    const direct = new OpenAI({ apiKey: key, baseURL: `${running.url}/v1`, maxRetries: 0 });
    expect(await direct.chat.completions.create({ model: 'openai/gpt-4o', messages: hello }).catch((caught: unknown) => caught)).toBeInstanceOf(
      OpenAI.PermissionDeniedError,
    );
  });

  it('applies deny patterns to /p/anthropic (Anthropic-shaped) and to the model in a Gemini path (Google-shaped)', async () => {
    const key = await createKey({ name: 'no claude, no pro', denied_models: ['claude-*', 'gemini-2.5-pro'] });
    const claude = new Anthropic({ apiKey: key, baseURL: `${running.url}/p/anthropic`, maxRetries: 0 });
    const error = await claude.messages.create({ model: 'claude-haiku-4-5', max_tokens: 20, messages: hello }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((error as InstanceType<typeof Anthropic.PermissionDeniedError>).error).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
    const native = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: `${running.url}/p/gemini`, apiVersion: 'v1beta' } });
    const refused = (await native.models.generateContent({ model: 'gemini-2.5-pro', contents: 'hi' }).catch((caught: unknown) => caught)) as { status?: number; message: string };
    expect(refused.status).toBe(403);
    expect(refused.message).toContain('PERMISSION_DENIED');
    const passed = await native.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' });
    expect(passed.text).toContain('hi');
  });

  it('refuses a call that names no model to a key limited to an allow list', async () => {
    const key = await createKey({ name: 'mini only', allowed_models: ['gpt-4o-mini'] });
    const listing = await fetch(`${running.url}/p/openai/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(listing.status).toBe(403);
    expect(await listing.json()).toMatchObject({ error: { code: 'model_not_allowed' } });
    const open = await createKey({ name: 'deny list only', denied_models: ['gpt-4o'] });
    expect((await fetch(`${running.url}/p/openai/v1/models`, { headers: { authorization: `Bearer ${open}` } })).status).toBe(200);
  });
});

describe('rate limits on passthrough and the Gemini API', () => {
  it('counts passthrough calls in the key window shared with the other APIs, and refuses past it in each shape', async () => {
    const key = await createKey({ name: 'three a minute', rate_limits: { requests_per_minute: 3 } });
    const client = new OpenAI({ apiKey: key, baseURL: `${running.url}/p/openai/v1`, maxRetries: 0 });
    const first = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello }).withResponse();
    expect(first.response.headers.get('x-ratelimit-limit-requests')).toBe('3');
    await new OpenAI({ apiKey: key, baseURL: `${running.url}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello });
    const before = openai.requests.length;
    const error = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: hello }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBeTruthy();
    const ai = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: running.url } });
    const refused = (await ai.models.generateContent({ model: 'gpt-4o-mini', contents: 'hi' }).catch((caught: unknown) => caught)) as { status?: number; message: string };
    expect(refused.status).toBe(429);
    expect(refused.message).toContain('RESOURCE_EXHAUSTED');
    expect(openai.requests.length).toBe(before);
  });
});
