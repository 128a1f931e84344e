/**
 * The inbound Gemini API through Google's official `@google/genai` client, over three providers: an
 * OpenAI-compatible one (OpenAI simulator), the native Anthropic provider and the native Gemini provider
 * (their simulators). Text, system instruction, streaming (SSE and JSON array), function calling round trips,
 * embeddings, countTokens, models, Google-shaped errors, `?key=` auth and usage records.
 */
import { type Content, FunctionCallingConfigMode, GoogleGenAI, type Tool, Type } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallOutcome } from '../src/core/outcome.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type AnthropicSimulator, startAnthropicSimulator } from './simulators/anthropic-simulator.ts';
import { type GeminiSimulator, startGeminiSimulator } from './simulators/gemini-simulator.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const masterKey = 'mg-gemini-inbound-master';
let openai: Simulator;
let anthropic: AnthropicSimulator;
let gemini: GeminiSimulator;
let backend: StorageBackend;
let running: RunningGateway;
let ai: GoogleGenAI;
const outcomes: CallOutcome[] = [];

const weatherTool: Tool = {
  functionDeclarations: [
    {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: { type: Type.OBJECT, properties: { location: { type: Type.STRING } }, required: ['location'] },
    },
  ],
};

beforeAll(async () => {
  openai = await startOpenAISimulator({ apiKey: 'sk-openai' });
  anthropic = await startAnthropicSimulator({ apiKey: 'sk-ant-upstream' });
  gemini = await startGeminiSimulator({ apiKey: 'AIza-upstream' });
  backend = createBackend('sqlite');
  running = await startGateway({
    ...backend.env,
    OPENAI_API_KEY: 'sk-openai',
    OPENAI_BASE_URL: openai.baseUrl,
    ANTHROPIC_API_KEY: 'sk-ant-upstream',
    ANTHROPIC_BASE_URL: anthropic.baseUrl,
    GEMINI_API_KEY: 'AIza-upstream',
    GEMINI_BASE_URL: gemini.baseUrl,
    MODELGATE_MASTER_KEY: masterKey,
    LOGGING_ENABLED: 'true',
  });
  running.gateway.bus.subscribe((outcome) => outcomes.push(outcome));
  ai = new GoogleGenAI({ apiKey: masterKey, httpOptions: { baseUrl: running.url } });
});

afterAll(async () => {
  await running?.close();
  await openai?.close();
  await anthropic?.close();
  await gemini?.close();
  await backend?.cleanup();
});

function lastOutcome(): CallOutcome {
  const outcome = outcomes.at(-1);
  if (!outcome) throw new Error('no outcome');
  return outcome;
}

async function waitForOutcome(count: number): Promise<CallOutcome> {
  for (let tries = 0; tries < 200 && outcomes.length < count; tries++) await new Promise((resolve) => setTimeout(resolve, 10));
  return lastOutcome();
}

const models = [
  { label: 'an OpenAI-compatible provider', model: 'gpt-4o-mini' },
  { label: 'the Anthropic provider', model: 'claude-haiku-4-5' },
  { label: 'the Gemini provider', model: 'gemini-2.5-flash' },
];

describe.each(models)('generateContent on $label', ({ model }) => {
  it('answers text with a system instruction, finishReason and usageMetadata', async () => {
    const response = await ai.models.generateContent({
      model,
      contents: 'Say hi',
      config: { systemInstruction: 'Be brief', temperature: 0.2, maxOutputTokens: 100 },
    });
    expect(response.text).toContain('Say hi');
    expect(response.candidates?.[0]?.finishReason).toBe('STOP');
    expect(response.candidates?.[0]?.content?.role).toBe('model');
    expect(response.usageMetadata?.promptTokenCount).toBeGreaterThan(0);
    expect(response.usageMetadata?.candidatesTokenCount).toBeGreaterThan(0);
    expect(response.usageMetadata?.totalTokenCount).toBe(
      (response.usageMetadata?.promptTokenCount ?? 0) + (response.usageMetadata?.candidatesTokenCount ?? 0) + (response.usageMetadata?.thoughtsTokenCount ?? 0),
    );
    const outcome = lastOutcome();
    expect(outcome).toMatchObject({ endpoint: 'gemini', requestedModel: model, status: 200, stream: false });
    expect(outcome.usage?.inputTokens).toBe(response.usageMetadata?.promptTokenCount);
  });

  it('streams with alt=sse and records the streamed usage', async () => {
    const before = outcomes.length;
    const stream = await ai.models.generateContentStream({ model, contents: 'stream these words please' });
    let text = '';
    let last: Awaited<ReturnType<typeof ai.models.generateContent>> | undefined;
    for await (const chunk of stream) {
      text += chunk.text ?? '';
      last = chunk;
    }
    expect(text).toContain('stream these words please');
    expect(last?.candidates?.[0]?.finishReason).toBe('STOP');
    expect(last?.usageMetadata?.candidatesTokenCount).toBeGreaterThan(0);
    const outcome = await waitForOutcome(before + 1);
    expect(outcome).toMatchObject({ endpoint: 'gemini', stream: true, status: 200 });
    expect(outcome.usage?.outputTokens).toBe((last?.usageMetadata?.candidatesTokenCount ?? 0) + (last?.usageMetadata?.thoughtsTokenCount ?? 0));
  });

  it('calls a function and takes its response back (round trip, streamed then not)', async () => {
    const question: Content = { role: 'user', parts: [{ text: 'Weather in Paris?' }] };
    const stream = await ai.models.generateContentStream({ model, contents: [question], config: { tools: [weatherTool] } });
    const calls = [];
    const modelParts = [];
    for await (const chunk of stream) {
      calls.push(...(chunk.functionCalls ?? []));
      modelParts.push(...(chunk.candidates?.[0]?.content?.parts ?? []));
    }
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ name: 'get_weather' });
    expect(typeof calls[0]?.args?.location).toBe('string');
    const followUp = await ai.models.generateContent({
      model,
      config: { tools: [weatherTool] },
      contents: [
        question,
        { role: 'model', parts: modelParts },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { forecast: 'sunny' } } }] },
      ],
    });
    expect(followUp.functionCalls).toBeUndefined();
    expect(followUp.text).toBeTruthy();
    expect(followUp.candidates?.[0]?.finishReason).toBe('STOP');
  });
});

describe('generateContent translation', () => {
  it('sends tools, tool config and generation config to an OpenAI-compatible upstream as chat', async () => {
    await ai.models.generateContent({
      model: 'gpt-4o-mini',
      contents: 'Weather?',
      config: {
        tools: [weatherTool],
        toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.ANY, allowedFunctionNames: ['get_weather'] } },
        topP: 0.5,
        stopSequences: ['END'],
        topK: 3,
      },
    });
    const body = openai.requests.at(-1)?.body as Record<string, unknown>;
    expect(body.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather for a city',
          parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
        },
      },
    ]);
    expect(body.tool_choice).toEqual({ type: 'function', function: { name: 'get_weather' } });
    expect(body.top_p).toBe(0.5);
    expect(body.stop).toEqual(['END']);
    expect(body.topK).toBeUndefined();
    expect(lastOutcome().droppedParams).toContain('generationConfig.topK');
  });

  it('keeps the thought signature of a Gemini function call through the round trip', async () => {
    const question: Content = { role: 'user', parts: [{ text: 'Weather in Rome?' }] };
    const first = await ai.models.generateContent({ model: 'gemini-3-pro-preview', contents: [question], config: { tools: [weatherTool] } });
    const part = first.candidates?.[0]?.content?.parts?.find((candidate) => candidate.functionCall);
    expect(part?.thoughtSignature).toBeTruthy();
    const second = await ai.models.generateContent({
      model: 'gemini-3-pro-preview',
      config: { tools: [weatherTool] },
      contents: [
        question,
        first.candidates?.[0]?.content as Content,
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { forecast: 'rain' } } }] },
      ],
    });
    expect(second.text).toBeTruthy();
    const upstream = [...gemini.requests].reverse().find((request) => request.action === 'generateContent');
    const history = ((upstream?.body?.contents ?? []) as { parts: { thoughtSignature?: string }[] }[])[1];
    expect(history?.parts.some((candidate) => candidate.thoughtSignature === part?.thoughtSignature)).toBe(true);
  });

  it('streams a JSON array without alt=sse', async () => {
    const response = await fetch(`${running.url}/v1beta/models/gpt-4o-mini:streamGenerateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': masterKey, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'array of words' }] }] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    const array = (await response.json()) as { candidates: { content: { parts: { text?: string }[] }; finishReason?: string }[] }[];
    expect(array.length).toBeGreaterThan(1);
    expect(array.map((item) => item.candidates[0]?.content.parts.map((part) => part.text ?? '').join('')).join('')).toContain('array of words');
    expect(array.at(-1)?.candidates[0]?.finishReason).toBe('STOP');
  });
});

describe('embeddings, countTokens and models', () => {
  it('embeds one and several contents (batchEmbedContents) on the Gemini and OpenAI providers', async () => {
    for (const model of ['gemini-embedding-001', 'text-embedding-3-small']) {
      const one = await ai.models.embedContent({ model, contents: 'hello world' });
      expect(one.embeddings).toHaveLength(1);
      expect(one.embeddings?.[0]?.values?.length).toBeGreaterThan(0);
      const several = await ai.models.embedContent({ model, contents: ['one', 'two', 'three'] });
      expect(several.embeddings).toHaveLength(3);
      expect(lastOutcome()).toMatchObject({ endpoint: 'gemini', status: 200, requestedModel: model });
    }
  });

  it('embeds with :embedContent', async () => {
    const response = await fetch(`${running.url}/v1beta/models/gemini-embedding-001:embedContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': masterKey },
      body: JSON.stringify({ content: { parts: [{ text: 'single' }] }, outputDimensionality: 8 }),
    });
    const body = (await response.json()) as { embedding: { values: number[] } };
    expect(response.status).toBe(200);
    expect(body.embedding.values).toHaveLength(8);
  });

  it('counts tokens (an estimate)', async () => {
    const counted = await ai.models.countTokens({ model: 'gpt-4o-mini', contents: 'twelve characters long text!' });
    expect(counted.totalTokens).toBe(7);
  });

  it('lists models and gets one, paging with pageSize', async () => {
    const names: string[] = [];
    const pager = await ai.models.list({ config: { pageSize: 2 } });
    for await (const model of pager) names.push(model.name ?? '');
    expect(names).toContain('models/gpt-4o-mini');
    expect(names).toContain('models/gemini-2.5-flash');
    expect(names).toContain('models/claude-haiku-4-5');
    expect(new Set(names).size).toBe(names.length);
    const model = await ai.models.get({ model: 'claude-haiku-4-5' });
    expect(model.supportedActions ?? (model as { supportedGenerationMethods?: string[] }).supportedGenerationMethods).toContain('generateContent');
  });
});

describe('the v1beta paths', () => {
  it('serves generateContent, streaming and the models listing under /v1beta', async () => {
    const beta = new GoogleGenAI({ apiKey: masterKey, httpOptions: { baseUrl: running.url, apiVersion: 'v1beta' } });
    const response = await beta.models.generateContent({ model: 'claude-haiku-4-5', contents: 'beta path' });
    expect(response.text).toContain('beta path');
    let text = '';
    for await (const chunk of await beta.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'beta stream' })) text += chunk.text ?? '';
    expect(text).toContain('beta stream');
    const names: string[] = [];
    for await (const model of await beta.models.list()) names.push(model.name ?? '');
    expect(names).toContain('models/gpt-4o-mini');
    expect((await beta.models.get({ model: 'gpt-4o-mini' })).name).toBe('models/gpt-4o-mini');
  });

  it('leaves GET /v1/models OpenAI-shaped for OpenAI clients', async () => {
    const response = await fetch(`${running.url}/v1/models`, { headers: { authorization: `Bearer ${masterKey}` } });
    expect(await response.json()).toMatchObject({ object: 'list' });
  });
});

describe('errors and authentication', () => {
  it('refuses a bad key with a Google-shaped 401', async () => {
    const bad = new GoogleGenAI({ apiKey: 'wrong-key', httpOptions: { baseUrl: running.url } });
    const error = (await bad.models.generateContent({ model: 'gpt-4o-mini', contents: 'hi' }).catch((caught: unknown) => caught)) as {
      status?: number;
      message: string;
    };
    expect(error.status).toBe(401);
    expect(JSON.parse(error.message.slice(error.message.indexOf('{')))).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
  });

  it('answers an unknown model with a Google-shaped 404', async () => {
    const error = (await ai.models.generateContent({ model: 'no-such-model', contents: 'hi' }).catch((caught: unknown) => caught)) as {
      status?: number;
      message: string;
    };
    expect(error.status).toBe(404);
    expect(error.message).toContain('NOT_FOUND');
  });

  it('answers hostile bodies with Google-shaped 400s, never a crash', async () => {
    const bodies = ['{not json', '[]', '{"contents":"x"}', '{"contents":[{"role":"robot","parts":[{"text":"a"}]}]}', '{"contents":[{"parts":[{"functionResponse":{"name":"f"}}]}]}'];
    for (const body of bodies) {
      const response = await fetch(`${running.url}/v1beta/models/gpt-4o-mini:generateContent`, { method: 'POST', headers: { 'x-goog-api-key': masterKey }, body });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    }
    const unknown = await fetch(`${running.url}/v1beta/cachedContents`, { headers: { 'x-goog-api-key': masterKey } });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    // Only /v1beta: other unknown paths keep the OpenAI shape.
    const outside = await fetch(`${running.url}/nope`, { headers: { 'x-goog-api-key': masterKey } });
    expect(await outside.json()).toMatchObject({ error: { code: 'unknown_endpoint', type: 'not_found_error' } });
  });

  it('takes the key from ?key= and keeps it out of the records', async () => {
    const response = await fetch(`${running.url}/v1beta/models/gpt-4o-mini:generateContent?key=${masterKey}`, {
      method: 'POST',
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'query key' }] }] }),
    });
    expect(response.status).toBe(200);
    const requestId = response.headers.get('x-request-id');
    const headers = { authorization: `Bearer ${masterKey}` };
    const usage = (await (await fetch(`${running.url}/admin/api/v1/usage/log?endpoint=gemini&limit=500`, { headers })).json()) as {
      data: { request_id: string; input_tokens: number }[];
    };
    expect(usage.data.find((record) => record.request_id === requestId)?.input_tokens).toBeGreaterThan(0);
    const audit = await (await fetch(`${running.url}/admin/api/v1/audit/log?endpoint=gemini&limit=500`, { headers })).text();
    expect(audit).toContain(requestId ?? 'missing');
    expect(audit).not.toContain(masterKey);
    const missing = await fetch(`${running.url}/v1beta/models/gpt-4o-mini:generateContent`, { method: 'POST', body: '{}' });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: { status: 'UNAUTHENTICATED' } });
  });
});
