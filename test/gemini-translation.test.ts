/**
 * Pure translation functions of the Gemini provider, against fixtures shaped like the Gemini API reference:
 * GenerateContentRequest / GenerateContentResponse https://ai.google.dev/api/generate-content,
 * thought signatures https://ai.google.dev/gemini-api/docs/thought-signatures,
 * thinking https://ai.google.dev/gemini-api/docs/thinking, embeddings https://ai.google.dev/api/embeddings,
 * errors (google.rpc.Status with RetryInfo details) https://ai.google.dev/gemini-api/docs/troubleshooting.
 */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../src/core/errors.ts';
import { geminiHttpError, retryDelaySeconds } from '../src/providers/gemini/create-gemini-provider.ts';
import { chatRequestToGemini, thinkingConfigFor } from '../src/providers/gemini/gemini-chat-translation.ts';
import {
  embeddingsRequestToGemini,
  floatsToBase64,
  geminiEmbeddingsToOpenAI,
} from '../src/providers/gemini/gemini-embeddings-translation.ts';
import {
  createGeminiStreamTranslator,
  geminiResponseToChat,
  mapFinishReason,
  usageFromGemini,
} from '../src/providers/gemini/gemini-response-translation.ts';

type Json = Record<string, unknown>;
const identity = { id: 'chatcmpl-test', model: 'gemini-2.5-flash', created: 1_750_000_000 };
const fixedIds = () => {
  let counter = 0;
  return () => `call_fixed${++counter}`;
};

describe('chatRequestToGemini', () => {
  it('maps a full conversation with system text, images, tool calls with signatures and parallel tool results', () => {
    const dropped: string[] = [];
    const request = chatRequestToGemini(
      {
        model: 'gemini-2.5-flash',
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'developer', content: [{ type: 'text', text: 'Use metric units.' }] },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Compare these' },
              { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
              { type: 'image_url', image_url: { url: 'https://example.com/docs/report.pdf', detail: 'high' } },
              { type: 'image_url', image_url: { url: 'https://example.com/image' } },
            ],
          },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_a',
                type: 'function',
                function: { name: 'weather', arguments: '{"city":"Paris"}' },
                extra_content: { google: { thought_signature: 'c2lnLWE=' } },
              },
              { id: 'call_b', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_a', content: '{"celsius":18}' },
          { role: 'tool', tool_call_id: 'call_b', content: 'sunny' },
          { role: 'user', content: 'Which is warmer?' },
          { role: 'assistant', content: 'Rome.', extra_content: { google: { thought_signature: 'dGV4dA==' } } },
          { role: 'user', content: 'Thanks' },
        ],
        temperature: 0.5,
        top_p: 0.8,
        max_tokens: 50,
        stop: 'STOP!',
        n: 2,
        seed: 7,
        presence_penalty: 0.1,
        frequency_penalty: 0.2,
        response_format: { type: 'json_object' },
        logit_bias: { '1': 2 },
        logprobs: true,
        stream: true,
        stream_options: { include_usage: true },
      },
      dropped,
    );
    expect(request.model).toBe('gemini-2.5-flash');
    expect(request.stream).toBe(true);
    expect(request.includeUsage).toBe(true);
    expect(dropped.sort()).toEqual(['logit_bias', 'logprobs']);
    expect(request.body).toEqual({
      systemInstruction: { parts: [{ text: 'You are terse.' }, { text: 'Use metric units.' }] },
      contents: [
        {
          role: 'user',
          parts: [
            { text: 'Compare these' },
            { inlineData: { mimeType: 'image/jpeg', data: '/9j/4AAQ' } },
            { fileData: { mimeType: 'application/pdf', fileUri: 'https://example.com/docs/report.pdf' } },
            { fileData: { fileUri: 'https://example.com/image' } },
          ],
        },
        {
          role: 'model',
          parts: [
            { functionCall: { name: 'weather', args: { city: 'Paris' } }, thoughtSignature: 'c2lnLWE=' },
            { functionCall: { name: 'weather', args: { city: 'Rome' } } },
          ],
        },
        {
          role: 'user',
          parts: [
            { functionResponse: { name: 'weather', response: { celsius: 18 } } },
            { functionResponse: { name: 'weather', response: { result: 'sunny' } } },
            { text: 'Which is warmer?' },
          ],
        },
        { role: 'model', parts: [{ text: 'Rome.', thoughtSignature: 'dGV4dA==' }] },
        { role: 'user', parts: [{ text: 'Thanks' }] },
      ],
      generationConfig: {
        temperature: 0.5,
        topP: 0.8,
        maxOutputTokens: 50,
        stopSequences: ['STOP!'],
        candidateCount: 2,
        presencePenalty: 0.1,
        frequencyPenalty: 0.2,
        seed: 7,
        responseMimeType: 'application/json',
      },
    });
  });

  it('leaves out empty text parts and empty assistant turns, which Gemini rejects', () => {
    const request = chatRequestToGemini(
      {
        model: 'gemini-2.5-flash',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: '' },
              { type: 'text', text: 'Hi' },
            ],
          },
          { role: 'assistant', content: '', reasoning_content: 'thinking only' },
          { role: 'user', content: 'Again' },
        ],
      },
      [],
    );
    expect(request.body.contents).toEqual([{ role: 'user', parts: [{ text: 'Hi' }, { text: 'Again' }] }]);
  });

  it('sends audio and file parts inline', () => {
    const request = chatRequestToGemini(
      {
        model: 'gemini-2.5-flash',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'mp3' } },
              { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
            ],
          },
        ],
      },
      [],
    );
    expect(request.body.contents).toEqual([
      {
        role: 'user',
        parts: [
          { inlineData: { mimeType: 'audio/mp3', data: 'UklGRg==' } },
          { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
        ],
      },
    ]);
  });

  it('maps tools and every tool_choice form', () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'lookup',
          description: 'Look up',
          parameters: { type: 'object', properties: { q: { type: 'string' } }, additionalProperties: false },
        },
      },
      { type: 'custom', custom: { name: 'free_text' } },
    ];
    const base = { model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'hi' }], tools };
    const dropped: string[] = [];
    const request = chatRequestToGemini({ ...base, tool_choice: 'auto' }, dropped);
    expect(request.body.tools).toEqual([
      { functionDeclarations: [{ name: 'lookup', description: 'Look up', parametersJsonSchema: tools[0]?.function?.parameters }] },
    ]);
    expect(request.body.toolConfig).toEqual({ functionCallingConfig: { mode: 'AUTO' } });
    expect(dropped).toEqual(['tools[1]']);
    const modeOf = (choice: unknown) => chatRequestToGemini({ ...base, tool_choice: choice }, []).body.toolConfig;
    expect(modeOf('none')).toEqual({ functionCallingConfig: { mode: 'NONE' } });
    expect(modeOf('required')).toEqual({ functionCallingConfig: { mode: 'ANY' } });
    expect(modeOf({ type: 'function', function: { name: 'lookup' } })).toEqual({
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['lookup'] },
    });
    expect(
      modeOf({ type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'lookup' } }] } }),
    ).toEqual({
      functionCallingConfig: { mode: 'AUTO', allowedFunctionNames: ['lookup'] },
    });
    expect(() => modeOf('sometimes')).toThrow(GatewayError);
  });

  it('maps response_format json_schema to responseJsonSchema unchanged', () => {
    const schema = {
      type: 'object',
      properties: { answer: { type: ['string', 'null'] } },
      required: ['answer'],
      additionalProperties: false,
    };
    const request = chatRequestToGemini(
      {
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'q' }],
        response_format: { type: 'json_schema', json_schema: { name: 'a', strict: true, schema } },
      },
      [],
    );
    expect(request.body.generationConfig).toEqual({ responseMimeType: 'application/json', responseJsonSchema: schema });
  });

  it('maps reasoning_effort to a thinking budget for Gemini 2.5 and a thinking level for Gemini 3', () => {
    expect(thinkingConfigFor('gemini-2.5-flash', 'none')).toEqual({ thinkingBudget: 0 });
    expect(thinkingConfigFor('gemini-2.5-flash', 'medium')).toEqual({ thinkingBudget: 8192, includeThoughts: true });
    expect(thinkingConfigFor('gemini-3-pro-preview', 'high')).toEqual({ thinkingLevel: 'high', includeThoughts: true });
    expect(thinkingConfigFor('gemini-3-flash-preview', 'minimal')).toEqual({ thinkingLevel: 'low', includeThoughts: true });
    expect(() => thinkingConfigFor('gemini-2.5-flash', 'extreme')).toThrow(GatewayError);
  });

  it('rejects what Gemini cannot express with an OpenAI-shaped 400 naming the parameter', () => {
    const attempt = (messages: unknown[]) => {
      try {
        chatRequestToGemini({ model: 'gemini-2.5-flash', messages }, []);
      } catch (error) {
        expect(error).toBeInstanceOf(GatewayError);
        return { status: (error as GatewayError).status, param: (error as GatewayError).param };
      }
      return null;
    };
    expect(
      attempt([
        { role: 'user', content: 'x' },
        { role: 'tool', tool_call_id: 'nope', content: 'y' },
      ]),
    ).toEqual({ status: 400, param: 'messages[1].tool_call_id' });
    expect(attempt([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://host/a.png' } }] }])).toEqual({
      status: 400,
      param: 'messages[0].content[0].image_url.url',
    });
    expect(attempt([{ role: 'user', content: [{ type: 'video', video: {} }] }])).toEqual({ status: 400, param: 'messages[0].content[0]' });
    expect(attempt([{ role: 'system', content: 'only a system prompt' }])).toEqual({ status: 400, param: 'messages' });
    expect(
      attempt([{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '[1,2]' } }] }]),
    ).toEqual({ status: 400, param: 'messages[0].tool_calls[0].function.arguments' });
    expect(attempt([{ role: 'narrator', content: 'x' }])).toEqual({ status: 400, param: 'messages[0].role' });
  });
});

describe('geminiResponseToChat', () => {
  // A thinking model's answer with a thought summary, text and a signed function call, as in the
  // thinking and thought-signatures guides.
  const response: Json = {
    candidates: [
      {
        content: {
          role: 'model',
          parts: [
            { text: 'The user wants the weather.', thought: true },
            { text: 'Let me check.' },
            { functionCall: { name: 'get_weather', args: { location: 'Paris' } }, thoughtSignature: 'CiQBVKhc7rUNDP2R' },
            { functionCall: { name: 'get_time', args: {} } },
          ],
        },
        finishReason: 'STOP',
        index: 0,
      },
    ],
    usageMetadata: {
      promptTokenCount: 40,
      candidatesTokenCount: 15,
      thoughtsTokenCount: 120,
      cachedContentTokenCount: 32,
      totalTokenCount: 175,
    },
    modelVersion: 'gemini-2.5-flash',
    responseId: 'abc123',
  };

  it('maps text, thoughts, signed function calls and usage', () => {
    const chat = geminiResponseToChat(response, identity, fixedIds());
    expect(chat).toEqual({
      id: 'chatcmpl-test',
      object: 'chat.completion',
      created: 1_750_000_000,
      model: 'gemini-2.5-flash',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Let me check.',
            refusal: null,
            reasoning_content: 'The user wants the weather.',
            tool_calls: [
              {
                id: 'call_fixed1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
                extra_content: { google: { thought_signature: 'CiQBVKhc7rUNDP2R' } },
              },
              { id: 'call_fixed2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
            ],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: {
        prompt_tokens: 40,
        completion_tokens: 135,
        total_tokens: 175,
        prompt_tokens_details: { cached_tokens: 32 },
        completion_tokens_details: { reasoning_tokens: 120 },
      },
    });
  });

  it('round-trips the signature: response tool call -> next request functionCall part', () => {
    const chat = geminiResponseToChat(response, identity, fixedIds());
    const message = (chat.choices as Json[])[0]?.message as Json;
    const next = chatRequestToGemini(
      {
        model: 'gemini-2.5-flash',
        messages: [
          { role: 'user', content: 'Weather and time?' },
          message,
          { role: 'tool', tool_call_id: 'call_fixed1', content: '{"c":20}' },
          { role: 'tool', tool_call_id: 'call_fixed2', content: '{"t":"noon"}' },
        ],
      },
      [],
    );
    const contents = next.body.contents as Json[];
    expect(contents[1]).toEqual({
      role: 'model',
      parts: [
        { text: 'Let me check.' },
        { functionCall: { name: 'get_weather', args: { location: 'Paris' } }, thoughtSignature: 'CiQBVKhc7rUNDP2R' },
        { functionCall: { name: 'get_time', args: {} } },
      ],
    });
    expect(contents[2]).toEqual({
      role: 'user',
      parts: [
        { functionResponse: { name: 'get_weather', response: { c: 20 } } },
        { functionResponse: { name: 'get_time', response: { t: 'noon' } } },
      ],
    });
  });

  it('maps finish reasons', () => {
    expect(mapFinishReason('STOP', false)).toBe('stop');
    expect(mapFinishReason('STOP', true)).toBe('tool_calls');
    expect(mapFinishReason('MAX_TOKENS', true)).toBe('length');
    for (const reason of ['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY'])
      expect(mapFinishReason(reason, false)).toBe('content_filter');
    expect(mapFinishReason('MALFORMED_FUNCTION_CALL', false)).toBe('stop');
    expect(mapFinishReason('OTHER', false)).toBe('stop');
    expect(mapFinishReason(undefined, false)).toBeNull();
  });

  it('maps a safety-blocked candidate and a blocked prompt to content_filter', () => {
    const safety = geminiResponseToChat(
      {
        candidates: [
          {
            finishReason: 'SAFETY',
            index: 0,
            safetyRatings: [{ category: 'HARM_CATEGORY_HARASSMENT', probability: 'HIGH', blocked: true }],
          },
        ],
      },
      identity,
    );
    expect((safety.choices as Json[])[0]).toMatchObject({ finish_reason: 'content_filter', message: { content: null } });
    const blocked = geminiResponseToChat(
      { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 } },
      identity,
    );
    expect(blocked.choices).toEqual([
      { index: 0, message: { role: 'assistant', content: null, refusal: null }, logprobs: null, finish_reason: 'content_filter' },
    ]);
    expect(blocked.usage).toEqual({ prompt_tokens: 9, completion_tokens: 0, total_tokens: 9 });
  });

  it('reads usage including tool-use prompt tokens', () => {
    expect(usageFromGemini({ promptTokenCount: 10, toolUsePromptTokenCount: 5, candidatesTokenCount: 3 })).toEqual({
      inputTokens: 15,
      outputTokens: 3,
      totalTokens: 18,
      cachedTokens: 0,
      reasoningTokens: 0,
      cacheWriteTokens: 0,
    });
    expect(usageFromGemini(undefined)).toBeNull();
  });
});

describe('createGeminiStreamTranslator', () => {
  it('turns streamGenerateContent events into chat chunks with a trailing usage chunk', () => {
    const translator = createGeminiStreamTranslator(identity, fixedIds());
    const events: Json[] = [
      {
        candidates: [{ content: { role: 'model', parts: [{ text: 'Thinking about it', thought: true }] }, index: 0 }],
        usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 },
      },
      { candidates: [{ content: { role: 'model', parts: [{ text: 'Hel' }] }, index: 0 }] },
      { candidates: [{ content: { role: 'model', parts: [{ text: 'lo' }] }, index: 0 }] },
      {
        candidates: [
          { content: { role: 'model', parts: [{ functionCall: { name: 'a', args: { x: 1 } }, thoughtSignature: 'U0lH' }] }, index: 0 },
        ],
      },
      {
        candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'b', args: {} } }] }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 4, thoughtsTokenCount: 3, totalTokenCount: 12 },
      },
    ];
    const deltas = events.flatMap((event) => translator.push(event)).map((chunk) => (chunk.choices as Json[])[0]);
    expect(deltas).toEqual([
      { index: 0, delta: { role: 'assistant', reasoning_content: 'Thinking about it' }, logprobs: null, finish_reason: null },
      { index: 0, delta: { content: 'Hel' }, logprobs: null, finish_reason: null },
      { index: 0, delta: { content: 'lo' }, logprobs: null, finish_reason: null },
      {
        index: 0,
        delta: {
          tool_calls: [
            {
              index: 0,
              id: 'call_fixed1',
              type: 'function',
              function: { name: 'a', arguments: '{"x":1}' },
              extra_content: { google: { thought_signature: 'U0lH' } },
            },
          ],
        },
        logprobs: null,
        finish_reason: null,
      },
      {
        index: 0,
        delta: { tool_calls: [{ index: 1, id: 'call_fixed2', type: 'function', function: { name: 'b', arguments: '{}' } }] },
        logprobs: null,
        finish_reason: 'tool_calls',
      },
    ]);
    expect(translator.usageChunk()).toEqual({
      id: 'chatcmpl-test',
      object: 'chat.completion.chunk',
      created: 1_750_000_000,
      model: 'gemini-2.5-flash',
      choices: [],
      usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12, completion_tokens_details: { reasoning_tokens: 3 } },
    });
  });

  it('ends a blocked prompt with content_filter and carries a text signature in the delta', () => {
    const blocked = createGeminiStreamTranslator(identity);
    expect(blocked.push({ promptFeedback: { blockReason: 'SAFETY' } })[0]?.choices).toEqual([
      { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: 'content_filter' },
    ]);
    expect(blocked.usageChunk()).toBeNull();
    const signed = createGeminiStreamTranslator(identity);
    signed.push({ candidates: [{ content: { parts: [{ text: 'Hi' }] }, index: 0 }] });
    expect(
      signed.push({ candidates: [{ content: { parts: [{ text: '', thoughtSignature: 'VEVYVA==' }] }, finishReason: 'STOP', index: 0 }] })[0]
        ?.choices,
    ).toEqual([
      { index: 0, delta: { extra_content: { google: { thought_signature: 'VEVYVA==' } } }, logprobs: null, finish_reason: 'stop' },
    ]);
  });
});

describe('embeddings translation', () => {
  it('uses embedContent for one input and batchEmbedContents for several, with outputDimensionality', () => {
    const dropped: string[] = [];
    expect(embeddingsRequestToGemini({ model: 'gemini-embedding-001', input: 'hello', user: 'u1' }, dropped)).toEqual({
      model: 'gemini-embedding-001',
      action: 'embedContent',
      encoding: 'float',
      body: { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'hello' }] } },
    });
    expect(dropped).toEqual(['user']);
    expect(
      embeddingsRequestToGemini({ model: 'gemini-embedding-001', input: ['a', 'b'], dimensions: 256, encoding_format: 'base64' }, []),
    ).toEqual({
      model: 'gemini-embedding-001',
      action: 'batchEmbedContents',
      encoding: 'base64',
      body: {
        requests: [
          { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] }, outputDimensionality: 256 },
          { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'b' }] }, outputDimensionality: 256 },
        ],
      },
    });
    expect(() => embeddingsRequestToGemini({ model: 'm', input: [1, 2, 3] }, [])).toThrow(GatewayError);
    expect(() => embeddingsRequestToGemini({ model: 'm', input: 'x', dimensions: -1 }, [])).toThrow(GatewayError);
  });

  it('returns floats or little-endian float32 base64', () => {
    const request = embeddingsRequestToGemini({ model: 'gemini-embedding-001', input: ['a', 'b'], encoding_format: 'base64' }, []);
    const result = geminiEmbeddingsToOpenAI({ embeddings: [{ values: [0.5, -1.25] }, { values: [3] }] }, request);
    const data = result.body.data as Json[];
    const decoded = Buffer.from(String(data[0]?.embedding), 'base64');
    expect([decoded.readFloatLE(0), decoded.readFloatLE(4)]).toEqual([0.5, -1.25]);
    expect(data[1]?.embedding).toBe(floatsToBase64([3]));
    const single = embeddingsRequestToGemini({ model: 'gemini-embedding-001', input: 'a' }, []);
    expect(geminiEmbeddingsToOpenAI({ embedding: { values: [0.1, 0.2] } }, single).body).toEqual({
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }],
      model: 'gemini-embedding-001',
      usage: { prompt_tokens: 0, total_tokens: 0 },
    });
  });
});

describe('Gemini error mapping', () => {
  const quota = JSON.stringify({
    error: {
      code: 429,
      message: 'You exceeded your current quota.',
      status: 'RESOURCE_EXHAUSTED',
      details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '41.5s' }],
    },
  });

  it('turns RetryInfo into Retry-After and keeps the message', () => {
    expect(retryDelaySeconds(quota)).toBe(42);
    const error = geminiHttpError('gemini', 429, {}, quota);
    expect(error.status).toBe(429);
    expect(error.code).toBe('resource_exhausted');
    expect(error.type).toBe('rate_limit_error');
    expect(error.retryable).toBe(true);
    expect(error.headers['retry-after']).toBe('42');
    expect(error.message).toBe('gemini: You exceeded your current quota.');
  });

  it('maps API_KEY_INVALID to 401 and reads array-wrapped errors', () => {
    const invalidKey = JSON.stringify({
      error: {
        code: 400,
        message: 'API key not valid. Please pass a valid API key.',
        status: 'INVALID_ARGUMENT',
        details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }],
      },
    });
    expect(geminiHttpError('gemini', 400, {}, invalidKey).status).toBe(401);
    const wrapped = JSON.stringify([
      { error: { code: 400, message: 'Function call is missing a thought_signature', status: 'INVALID_ARGUMENT' } },
    ]);
    const error = geminiHttpError('gemini', 400, {}, wrapped);
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toContain('thought_signature');
    expect(geminiHttpError('gemini', 503, {}, '{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}').status).toBe(503);
  });
});
