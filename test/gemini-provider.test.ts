/** The official `openai` SDK against the gateway, whose `gemini` provider talks to the Gemini API simulator. */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type GeminiSimulator, startGeminiSimulator } from './simulators/gemini-simulator.ts';

const upstreamKey = 'AIza-upstream-secret';
let simulator: GeminiSimulator;
let running: RunningGateway;
let client: OpenAI;

beforeAll(async () => {
  simulator = await startGeminiSimulator({ apiKey: upstreamKey });
  running = await startGateway({ GEMINI_API_KEY: upstreamKey, GEMINI_BASE_URL: simulator.baseUrl, MODELGATE_MASTER_KEY: 'mg-test-key' });
  client = new OpenAI({ apiKey: 'mg-test-key', baseURL: `${running.url}/v1`, maxRetries: 0 });
});

afterAll(async () => {
  await running?.close();
  await simulator?.close();
});

const lastGenerate = () =>
  [...simulator.requests].reverse().find((request) => request.action === 'generateContent' || request.action === 'streamGenerateContent');

const weatherTool: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'], additionalProperties: false },
  },
};

describe('gemini provider through the openai SDK', () => {
  it('lists Gemini models without the models/ prefix', async () => {
    const models = await client.models.list();
    const ids = models.data.map((model) => model.id);
    expect(ids).toContain('gemini-2.5-flash');
    expect(ids).toContain('gemini-embedding-001');
    expect(ids.some((id) => id.includes('models/'))).toBe(false);
    const listing = simulator.requests.find((request) => request.action === 'models');
    expect(listing?.headers['x-goog-api-key']).toBe(upstreamKey);
  });

  it('creates a chat completion with a system instruction and generation config', async () => {
    const completion = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [
        { role: 'system', content: 'Be brief' },
        { role: 'user', content: 'Say hi' },
      ],
      temperature: 0.2,
      top_p: 0.9,
      max_tokens: 100,
      stop: ['END'],
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe('Hello from gemini: Say hi [system: Be brief]');
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 8, total_tokens: 12 });
    const upstream = lastGenerate();
    expect(upstream?.action).toBe('generateContent');
    expect(upstream?.model).toBe('gemini-2.5-flash');
    expect(upstream?.headers['x-goog-api-key']).toBe(upstreamKey);
    expect(upstream?.query.has('key')).toBe(false);
    expect(upstream?.body).toMatchObject({
      contents: [{ role: 'user', parts: [{ text: 'Say hi' }] }],
      systemInstruction: { parts: [{ text: 'Be brief' }] },
      generationConfig: { temperature: 0.2, topP: 0.9, maxOutputTokens: 100, stopSequences: ['END'] },
    });
  });

  it('streams a chat completion and keeps the usage chunk for itself', async () => {
    const stream = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'Stream please' }],
      stream: true,
    });
    let text = '';
    let chunks = 0;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      chunks += 1;
      expect(chunk.choices.length).toBe(1);
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      expect(chunk.usage ?? null).toBeNull();
    }
    expect(text).toBe('Hello from gemini: Stream please');
    expect(chunks).toBeGreaterThan(3);
    expect(finish).toBe('stop');
    const upstream = lastGenerate();
    expect(upstream?.action).toBe('streamGenerateContent');
    expect(upstream?.query.get('alt')).toBe('sse');
  });

  it('streams usage, including thinking tokens, when the client asks for it', async () => {
    const stream = await client.chat.completions.create({
      model: 'gemini/gemini-sim-thinking',
      messages: [{ role: 'user', content: 'a b c' }],
      stream: true,
      stream_options: { include_usage: true },
      reasoning_effort: 'low',
    });
    let usage: OpenAI.CompletionUsage | null | undefined;
    let reasoning = '';
    let text = '';
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      const delta = chunk.choices[0]?.delta as { content?: string | null; reasoning_content?: string } | undefined;
      reasoning += delta?.reasoning_content ?? '';
      text += delta?.content ?? '';
    }
    expect(reasoning).toContain('Planning');
    expect(text).toBe('Hello from gemini: a b c');
    expect(usage).toMatchObject({
      prompt_tokens: 3,
      completion_tokens: 6 + 12,
      total_tokens: 21,
      completion_tokens_details: { reasoning_tokens: 12 },
    });
    expect(lastGenerate()?.body?.generationConfig).toMatchObject({ thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } });
  });

  it('reports thinking tokens and reasoning_content without streaming', async () => {
    const completion = await client.chat.completions.create({
      model: 'gemini/gemini-sim-thinking',
      messages: [{ role: 'user', content: 'think' }],
      reasoning_effort: 'high',
    });
    const message = completion.choices[0]?.message as OpenAI.ChatCompletionMessage & { reasoning_content?: string };
    expect(message.reasoning_content).toContain('Planning');
    expect(message.content).toBe('Hello from gemini: think');
    expect(completion.usage?.completion_tokens_details?.reasoning_tokens).toBe(12);
  });

  it('calls tools and round-trips the thought signature, non-streaming', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const completion = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages,
      tools: [weatherTool],
      tool_choice: 'required',
    });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    const call = choice?.message.tool_calls?.[0] as OpenAI.ChatCompletionMessageToolCall & {
      extra_content?: { google?: { thought_signature?: string } };
    };
    expect(call.type === 'function' && call.function.name).toBe('get_weather');
    expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ location: 'Paris' });
    const signature = call.extra_content?.google?.thought_signature;
    expect(signature).toBe(simulator.issuedSignatures.at(-1));
    const upstream = lastGenerate()?.body;
    expect(upstream?.tools).toEqual([
      {
        functionDeclarations: [
          { name: 'get_weather', description: 'Weather for a city', parametersJsonSchema: weatherTool.function.parameters },
        ],
      },
    ]);
    expect(upstream?.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });

    // The SDK hands the assistant message back as it came, extra_content included.
    messages.push(choice?.message as OpenAI.ChatCompletionMessageParam, {
      role: 'tool',
      tool_call_id: call.id,
      content: '{"temperature":21}',
    });
    const followUp = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages, tools: [weatherTool] });
    expect(followUp.choices[0]?.message.content).toBe('Tool said: {"temperature":21}');
    expect(followUp.choices[0]?.finish_reason).toBe('stop');
    const contents = lastGenerate()?.body?.contents as Record<string, unknown>[];
    expect(contents[1]).toEqual({
      role: 'model',
      parts: [{ functionCall: { name: 'get_weather', args: { location: 'Paris' } }, thoughtSignature: signature }],
    });
    expect(contents[2]).toEqual({ role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temperature: 21 } } }] });
  });

  it('streams tool calls and the signature survives the SDK stream helper', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather?' }];
    const stream = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages, tools: [weatherTool], stream: true });
    const toolCalls: Record<string, unknown>[] = [];
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) toolCalls.push(delta as unknown as Record<string, unknown>);
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe('tool_calls');
    expect(toolCalls).toHaveLength(1);
    expect(toolCalls[0]).toMatchObject({
      index: 0,
      type: 'function',
      function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
      extra_content: { google: { thought_signature: simulator.issuedSignatures.at(-1) } },
    });

    // Without the signature the simulator (like Gemini 3) rejects the history: the error reaches the client as a 400.
    const id = String(toolCalls[0]?.id);
    const unsigned: OpenAI.ChatCompletionMessageParam[] = [
      ...messages,
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id, type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }],
      },
      { role: 'tool', tool_call_id: id, content: 'sunny' },
    ];
    const error = await client.chat.completions
      .create({ model: 'gemini-2.5-flash', messages: unsigned, tools: [weatherTool] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toContain('thought_signature');

    const signed = structuredClone(unsigned);
    (signed[1] as unknown as { tool_calls: Record<string, unknown>[] }).tool_calls[0]!.extra_content = toolCalls[0]?.extra_content;
    const completion = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: signed, tools: [weatherTool] });
    expect(completion.choices[0]?.message.content).toBe('Tool said: {"result":"sunny"}');
  });

  it('sends data-URL images as inlineData and http URLs as fileData', async () => {
    const completion = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What are these' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe('Hello from gemini: What are these (2 images)');
    expect(lastGenerate()?.body?.contents).toEqual([
      {
        role: 'user',
        parts: [
          { text: 'What are these' },
          { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
          { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/cat.jpg' } },
        ],
      },
    ]);
  });

  it('maps response_format to responseMimeType and responseJsonSchema', async () => {
    const schema = { type: 'object', properties: { echo: { type: 'string' } }, required: ['echo'], additionalProperties: false };
    const completion = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'json' }],
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } },
    });
    expect(JSON.parse(completion.choices[0]?.message.content ?? '')).toEqual({ echo: 'Hello from gemini: json' });
    expect(lastGenerate()?.body?.generationConfig).toEqual({ responseMimeType: 'application/json', responseJsonSchema: schema });
  });

  it('returns several candidates as choices and maps MAX_TOKENS to length', async () => {
    const completion = await client.chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'one two three four five' }],
      n: 2,
      max_completion_tokens: 3,
    });
    expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1]);
    expect(completion.choices.every((choice) => choice.finish_reason === 'length')).toBe(true);
    expect(completion.choices[0]?.message.content).toBe('Hello from gemini: ');
    expect(lastGenerate()?.body?.generationConfig).toMatchObject({ candidateCount: 2, maxOutputTokens: 3 });
  });

  it('maps a safety stop to content_filter, streamed and not', async () => {
    const completion = await client.chat.completions.create({
      model: 'gemini/gemini-sim-safety',
      messages: [{ role: 'user', content: 'something bad' }],
    });
    expect(completion.choices[0]?.finish_reason).toBe('content_filter');
    expect(completion.choices[0]?.message.content).toBeNull();

    const stream = await client.chat.completions.create({
      model: 'gemini/gemini-sim-safety',
      messages: [{ role: 'user', content: 'something bad' }],
      stream: true,
    });
    let finish: string | null | undefined;
    let text = '';
    for await (const chunk of stream) {
      finish = chunk.choices[0]?.finish_reason ?? finish;
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe('I started to ');
    expect(finish).toBe('content_filter');
  });

  it('maps a blocked prompt to content_filter', async () => {
    const completion = await client.chat.completions.create({
      model: 'gemini/gemini-sim-prompt-blocked',
      messages: [{ role: 'user', content: 'blocked' }],
    });
    expect(completion.choices[0]?.finish_reason).toBe('content_filter');
    expect(completion.usage?.prompt_tokens).toBe(1);
    const stream = await client.chat.completions.create({
      model: 'gemini/gemini-sim-prompt-blocked',
      messages: [{ role: 'user', content: 'blocked' }],
      stream: true,
    });
    const reasons: (string | null)[] = [];
    for await (const chunk of stream) reasons.push(chunk.choices[0]?.finish_reason ?? null);
    expect(reasons.at(-1)).toBe('content_filter');
  });

  it('reports parameters Gemini cannot take in X-Modelgate-Dropped-Params', async () => {
    const { response } = await client.chat.completions
      .create({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'hi' }],
        logit_bias: { '50256': -100 },
        user: 'someone',
        parallel_tool_calls: false,
      })
      .withResponse();
    const dropped = response.headers.get('x-modelgate-dropped-params')?.split(',') ?? [];
    expect(dropped.sort()).toEqual(['logit_bias', 'parallel_tool_calls', 'user']);
    expect(Object.keys(lastGenerate()?.body ?? {})).toEqual(['contents']);
  });

  it('creates embeddings for one input with embedContent, base64 by default in the SDK', async () => {
    const result = await client.embeddings.create({ model: 'gemini-embedding-001', input: 'hello world' });
    expect(result.data).toHaveLength(1);
    const vector = result.data[0]?.embedding ?? [];
    expect(vector).toHaveLength(8);
    expect(vector[0]).toBeCloseTo(0.12, 5);
    const upstream = simulator.requests.at(-1);
    expect(upstream?.action).toBe('embedContent');
    expect(upstream?.body).toEqual({ model: 'models/gemini-embedding-001', content: { parts: [{ text: 'hello world' }] } });
  });

  it('creates embeddings for several inputs with batchEmbedContents and honours dimensions', async () => {
    const result = await client.embeddings.create({
      model: 'gemini-embedding-001',
      input: ['a', 'bb', 'ccc'],
      dimensions: 4,
      encoding_format: 'float',
    });
    expect(result.data.map((item) => item.index)).toEqual([0, 1, 2]);
    expect(result.data.map((item) => item.embedding.length)).toEqual([4, 4, 4]);
    expect(result.data[2]?.embedding[0]).toBeCloseTo(0.04, 6);
    const upstream = simulator.requests.at(-1);
    expect(upstream?.action).toBe('batchEmbedContents');
    expect((upstream?.body?.requests as unknown[] | undefined)?.[1]).toEqual({
      model: 'models/gemini-embedding-001',
      content: { parts: [{ text: 'bb' }] },
      outputDimensionality: 4,
    });
  });

  it('maps 429 RESOURCE_EXHAUSTED with its retry delay', async () => {
    const error = await client.chat.completions
      .create({ model: 'gemini/gemini-sim-rate-limited', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rateLimit = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rateLimit.status).toBe(429);
    expect(rateLimit.headers?.get('retry-after')).toBe('17');
    expect(rateLimit.message).toContain('You exceeded your current quota');
    expect(rateLimit.code).toBe('resource_exhausted');
  });

  it('maps 500 and 503 to upstream errors', async () => {
    const serverError = await client.chat.completions
      .create({ model: 'gemini/gemini-sim-server-error', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect((serverError as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((serverError as InstanceType<typeof OpenAI.APIError>).code).toBe('internal');
    const overloaded = await client.chat.completions
      .create({ model: 'gemini/gemini-sim-overloaded', messages: [{ role: 'user', content: 'hi' }], stream: true })
      .catch((caught: unknown) => caught);
    expect((overloaded as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((overloaded as InstanceType<typeof OpenAI.APIError>).message).toContain('overloaded');
  });

  it('fails the stream when Gemini sends an error event mid-stream', async () => {
    const stream = await client.chat.completions.create({
      model: 'gemini/gemini-sim-stream-error',
      messages: [{ role: 'user', content: 'one two three' }],
      stream: true,
    });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((caught: unknown) => caught);
    expect(text).toBe('Hello ');
    expect(error).toBeInstanceOf(Error);
  });

  it('cancels the upstream stream when the client goes away', async () => {
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'gemini/gemini-sim-hang-stream', messages: [{ role: 'user', content: 'hang' }], stream: true },
      { signal: controller.signal },
    );
    let first = '';
    const reading = (async () => {
      for await (const chunk of stream) {
        first += chunk.choices[0]?.delta.content ?? '';
        controller.abort();
      }
    })().catch(() => undefined);
    await simulator.waitForAbort();
    await reading;
    expect(first).toBe('Hello ');
    expect(simulator.requests.find((request) => request.model === 'gemini-sim-hang-stream')?.aborted).toBe(true);
  });

  it('maps an unknown model to 404', async () => {
    const error = await client.chat.completions
      .create({ model: 'gemini/gemini-0-nonexistent', messages: [{ role: 'user', content: 'hi' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).message).toContain('is not found for API version v1beta');
  });

  it('rejects bad input with a 400 before calling Gemini', async () => {
    const before = simulator.requests.length;
    const error = await client.chat.completions
      .create({
        model: 'gemini-2.5-flash',
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'tool', tool_call_id: 'call_unknown', content: 'x' },
        ],
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(simulator.requests.length).toBe(before);
  });
});

describe('gemini provider with a wrong upstream key', () => {
  it('maps API_KEY_INVALID to 401 and never leaks the key', async () => {
    const wrong = await startGateway({
      GEMINI_API_KEY: 'AIza-wrong-key',
      GEMINI_BASE_URL: simulator.baseUrl,
      GEMINI_MODELS: 'gemini-2.5-flash',
      MODELGATE_MASTER_KEY: 'mg-test-key',
    });
    try {
      const wrongClient = new OpenAI({ apiKey: 'mg-test-key', baseURL: `${wrong.url}/v1`, maxRetries: 0 });
      const error = await wrongClient.chat.completions
        .create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(JSON.stringify((error as InstanceType<typeof OpenAI.APIError>).error)).not.toContain('AIza-wrong-key');
      const models = await wrongClient.models.list();
      expect(models.data.map((model) => model.id)).toEqual(['gemini-2.5-flash']);
    } finally {
      await wrong.close();
    }
  });
});

describe('gemini model listing', () => {
  it('follows nextPageToken and keeps only models usable for chat or embeddings', async () => {
    const paged = await startGeminiSimulator({
      apiKey: upstreamKey,
      maxPageSize: 2,
      models: ['gemini-a', 'gemini-b', 'imagen-4', 'text-embedding-x', 'gemini-d'],
    });
    const gateway = await startGateway({
      GEMINI_API_KEY: upstreamKey,
      GEMINI_BASE_URL: paged.baseUrl,
      MODELGATE_MASTER_KEY: 'mg-test-key',
    });
    try {
      const pagedClient = new OpenAI({ apiKey: 'mg-test-key', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
      const models = await pagedClient.models.list();
      expect(models.data.map((model) => model.id)).toEqual(['gemini-a', 'gemini-b', 'text-embedding-x', 'gemini-d']);
      const listings = paged.requests.filter((request) => request.action === 'models');
      expect(listings.map((request) => request.query.get('pageToken'))).toEqual([null, '2', '4']);
    } finally {
      await gateway.close();
      await paged.close();
    }
  });
});
