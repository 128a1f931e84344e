/**
 * Streaming frames are batched per upstream read, never held back: the upstream here sends its
 * next chunk only after the client has received the previous one, so a gateway that buffered
 * frames would deadlock (and the test would time out) instead of finishing.
 * Wire format: https://platform.openai.com/docs/api-reference/chat/streaming
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';

let upstream: Server;
let gateway: RunningGateway;
/** Resolvers the client calls when it has seen chunk N; the upstream waits for them. */
const seen: (() => void)[] = [];
const waits: Promise<void>[] = [];
const chunkCount = 4;
for (let index = 0; index < chunkCount; index++) waits.push(new Promise<void>((resolve) => seen.push(resolve)));

function chunk(content: string, finish: string | null): string {
  return `data: ${JSON.stringify({
    id: 'chatcmpl-gated',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta: { content }, finish_reason: finish }],
  })}\n\n`;
}

beforeAll(async () => {
  upstream = createServer(async (request, response) => {
    if (request.url === '/v1/models') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', created: 1, owned_by: 'test' }] }));
      return;
    }
    for await (const _piece of request) {
      // read the request body
    }
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    for (let index = 0; index < chunkCount; index++) {
      response.write(chunk(`part${index}`, index === chunkCount - 1 ? 'stop' : null));
      await waits[index];
    }
    response.end('data: [DONE]\n\n');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const port = (upstream.address() as AddressInfo).port;
  gateway = await startGateway({
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
    MODELGATE_MASTER_KEY: 'master',
  });
});

afterAll(async () => {
  for (const release of seen) release();
  await gateway?.close();
  upstream?.closeAllConnections();
  await new Promise<void>((resolve) => upstream?.close(() => resolve()));
});

it('forwards each streamed chunk as soon as the upstream sends it', async () => {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer master', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true }),
  });
  expect(response.status).toBe(200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  let released = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    while (released < chunkCount && text.includes(`part${released}`)) {
      seen[released]?.();
      released++;
    }
  }
  expect(released).toBe(chunkCount);
  const events = text.split('\n\n').filter(Boolean);
  expect(events.at(-1)).toBe('data: [DONE]');
  expect(events.filter((event) => event.includes('chat.completion.chunk'))).toHaveLength(chunkCount);
});
