/** Pure parts of the passthrough: URL mapping, header filtering, usage from native answers. */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../src/core/errors.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { clientResponseHeaders, upstreamRequestHeaders } from '../src/passthrough/passthrough-headers.ts';
import { passthroughUrl } from '../src/passthrough/passthrough-path.ts';
import { createPassthroughTargets } from '../src/passthrough/passthrough-targets.ts';
import { createUsageTap, lastObjectValue } from '../src/passthrough/usage-tap.ts';

const alias = { allowV1Alias: true };
const noAlias = { allowV1Alias: false };

async function drain(source: AsyncIterable<Uint8Array>): Promise<number> {
  let bytes = 0;
  for await (const chunk of source) bytes += chunk.byteLength;
  return bytes;
}

async function* chunksOf(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let start = 0; start < bytes.byteLength; start += size) yield bytes.subarray(start, start + size);
}

describe('passthroughUrl', () => {
  it('maps /v1/... and /... onto a versioned base URL alike (ALLOW_PASSTHROUGH_V1_ALIAS)', () => {
    expect(passthroughUrl('https://api.openai.com/v1', '/v1/chat/completions', '', alias)).toBe('https://api.openai.com/v1/chat/completions');
    expect(passthroughUrl('https://api.openai.com/v1', '/chat/completions', '', alias)).toBe('https://api.openai.com/v1/chat/completions');
    expect(passthroughUrl('https://api.z.ai/api/paas/v4', '/v1/chat/completions', '', alias)).toBe('https://api.z.ai/api/paas/v4/chat/completions');
    expect(passthroughUrl('https://generativelanguage.googleapis.com/v1beta', '/v1beta/models', 'pageSize=5', alias)).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models?pageSize=5',
    );
  });

  it('keeps the path whole where the base URL has no version, or without the alias', () => {
    expect(passthroughUrl('https://api.anthropic.com', '/v1/messages', '', alias)).toBe('https://api.anthropic.com/v1/messages');
    expect(passthroughUrl('https://api.openai.com/v1', '/v1/chat/completions', '', noAlias)).toBe('https://api.openai.com/v1/v1/chat/completions');
  });

  it('keeps the query and other escapes as sent', () => {
    expect(passthroughUrl('https://api.openai.com/v1', '/files/file-1%20a', 'limit=2&after=x', alias)).toBe('https://api.openai.com/v1/files/file-1%20a?limit=2&after=x');
  });

  it.each(['/../x', '/a/..', '/%2e%2e/x', '/%2E./x', '/a%2Fb', '/a%5cb', '/a\\b', '//x', '/a//b', '/./a', '/a%00', '/a%252e', '/a%zz', 'x', '/a\nb'])(
    'refuses %j',
    (rest) => {
      expect(() => passthroughUrl('https://api.openai.com/v1', rest, '', alias)).toThrow(GatewayError);
    },
  );
});

describe('passthrough headers', () => {
  it('strips hop-by-hop, forwarding, credentials and Connection-listed headers, asks for identity encoding', () => {
    const headers = upstreamRequestHeaders(
      {
        host: 'gateway',
        connection: 'keep-alive, x-hop',
        'x-hop': '1',
        'keep-alive': 'timeout=5',
        authorization: 'Bearer mg-key',
        'x-api-key': 'mg-key',
        'x-goog-api-key': 'mg-key',
        'api-key': 'mg-key',
        cookie: 'a=b',
        forwarded: 'for=1.2.3.4',
        'x-forwarded-for': '1.2.3.4',
        'x-real-ip': '1.2.3.4',
        via: '1.1 proxy',
        'x-modelgate-cache': 'no',
        'content-length': '10',
        'accept-encoding': 'gzip',
        'content-type': 'application/json',
        'openai-beta': 'assistants=v2',
        'anthropic-beta': 'files-api-2025-04-14',
      },
      false,
    );
    expect(headers).toEqual({ 'content-type': 'application/json', 'openai-beta': 'assistants=v2', 'anthropic-beta': 'files-api-2025-04-14', 'accept-encoding': 'identity' });
    expect(upstreamRequestHeaders({ 'content-length': '10' }, true)['content-length']).toBe('10');
  });

  it('drops hop-by-hop headers and cookies on the way back, renames the upstream request id', () => {
    expect(clientResponseHeaders({ 'content-type': 'text/plain', 'content-length': '3', 'transfer-encoding': 'chunked', 'set-cookie': 'x=y', 'x-request-id': 'req_1', connection: 'close' })).toEqual({
      'content-type': 'text/plain',
      'content-length': '3',
      'x-upstream-request-id': 'req_1',
    });
  });
});

describe('passthrough targets', () => {
  it('follows ENABLED_PASSTHROUGH_PROVIDERS by type or name and injects each provider kind of credentials', () => {
    const config = loadConfig({ OPENAI_API_KEY: 'sk-o', ANTHROPIC_API_KEY: 'sk-a', GEMINI_API_KEY: 'g', GROQ_API_KEY: 'gsk', OPENAI_VLLM_API_KEY: 'v', OPENAI_VLLM_BASE_URL: 'http://vllm:8000/v1' }, '/nonexistent');
    expect(config.passthrough).toEqual({ enabled: true, providers: ['openai', 'anthropic', 'openrouter', 'zai'], allowV1Alias: true });
    const targets = createPassthroughTargets(config.providers, config.passthrough);
    expect([...targets.keys()].sort()).toEqual(['anthropic', 'openai', 'openai-vllm']);
    expect(targets.get('openai')?.injected).toEqual({ authorization: 'Bearer sk-o' });
    expect(targets.get('anthropic')).toMatchObject({ baseUrl: 'https://api.anthropic.com', injected: { 'x-api-key': 'sk-a' }, defaults: { 'anthropic-version': '2023-06-01' } });
    const gemini = createPassthroughTargets(config.providers, { ...config.passthrough, providers: ['gemini', 'openai-vllm'] });
    expect([...gemini.keys()].sort()).toEqual(['gemini', 'openai-vllm']);
    expect(gemini.get('gemini')).toMatchObject({ injected: { 'x-goog-api-key': 'g' }, strippedQuery: ['key'], format: 'gemini' });
  });

  it('reads ENABLE_PASSTHROUGH_ROUTES and ALLOW_PASSTHROUGH_V1_ALIAS, refusing non-booleans', () => {
    expect(loadConfig({ ENABLE_PASSTHROUGH_ROUTES: 'false', ALLOW_PASSTHROUGH_V1_ALIAS: '0', ENABLED_PASSTHROUGH_PROVIDERS: 'openai, groq' }, '/nonexistent').passthrough).toEqual({
      enabled: false,
      providers: ['openai', 'groq'],
      allowV1Alias: false,
    });
    expect(() => loadConfig({ ENABLE_PASSTHROUGH_ROUTES: 'maybe' }, '/nonexistent')).toThrow(/ENABLE_PASSTHROUGH_ROUTES/);
  });
});

describe('usage from native answers', () => {
  it('finds the last top-level usage object in a tail, ignoring braces inside strings', () => {
    expect(lastObjectValue('{"data":[{"text":"\\"usage\\":{x}"}],"usage":{"prompt_tokens":5,"total_tokens":5}}', '"usage"')).toEqual({ prompt_tokens: 5, total_tokens: 5 });
  });

  it('reads usage from a JSON answer larger than what it keeps whole, with bounded memory', async () => {
    const body = `{"object":"list","data":[${Array.from({ length: 4000 }, (_unused, index) => `{"index":${index},"embedding":[0.1,0.2,0.3]}`).join(',')}],"model":"text-embedding-3-small","usage":{"prompt_tokens":42,"total_tokens":42}}`;
    const tap = createUsageTap('openai', 'application/json', undefined, chunksOf(body, 1000), { maxJsonBytes: 10_000, tailBytes: 4000 });
    expect(await drain(tap.body)).toBe(Buffer.byteLength(body));
    expect(tap.reading().usage).toMatchObject({ inputTokens: 42, totalTokens: 42 });
    expect(tap.json()).toBeUndefined();
  });

  it('reads OpenAI Responses, Anthropic and Gemini streams', async () => {
    const responses = createUsageTap(
      'openai',
      'text/event-stream',
      undefined,
      chunksOf('event: response.created\ndata: {"type":"response.created","response":{"model":"gpt-4o","usage":null}}\n\nevent: response.completed\ndata: {"type":"response.completed","response":{"model":"gpt-4o","usage":{"input_tokens":3,"output_tokens":4,"total_tokens":7}}}\n\n', 7),
    );
    await drain(responses.body);
    expect(responses.reading()).toMatchObject({ model: 'gpt-4o', usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 } });

    const anthropic = createUsageTap(
      'anthropic',
      'text/event-stream; charset=utf-8',
      undefined,
      chunksOf(
        'event: message_start\ndata: {"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":1}}}\n\nevent: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}\n\n',
        11,
      ),
    );
    await drain(anthropic.body);
    expect(anthropic.reading()).toMatchObject({ model: 'claude-x', usage: { inputTokens: 15, cachedTokens: 5, outputTokens: 9 } });

    const gemini = createUsageTap(
      'gemini',
      'application/json',
      undefined,
      chunksOf('[{"candidates":[],"usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":1,"totalTokenCount":3},"modelVersion":"gemini-2.5-flash"},\n{"candidates":[],"usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":6,"totalTokenCount":8},"modelVersion":"gemini-2.5-flash"}]', 13),
    );
    await drain(gemini.body);
    expect(gemini.reading()).toMatchObject({ model: 'gemini-2.5-flash', usage: { inputTokens: 2, outputTokens: 6, totalTokens: 8 } });
  });

  it('does not read compressed or binary answers, and stops on an oversized event', async () => {
    const gzip = createUsageTap('openai', 'application/json', 'gzip', chunksOf('{"usage":{"prompt_tokens":1}}', 4));
    await drain(gzip.body);
    expect(gzip.reading().usage).toBeNull();
    const huge = createUsageTap('openai', 'text/event-stream', undefined, chunksOf(`data: {"pad":"${'x'.repeat(5000)}","usage":{"prompt_tokens":1}}\n\n`, 100), { maxEventBytes: 1000 });
    expect(await drain(huge.body)).toBeGreaterThan(5000);
    expect(huge.reading().usage).toBeNull();
  });
});
