/**
 * The OpenAI simulator's `POST /v1/responses` (native Responses API, used for the openai and xai
 * flavours). Wire format per https://platform.openai.com/docs/api-reference/responses/create
 * (Response object: https://platform.openai.com/docs/api-reference/responses/object) and
 * https://platform.openai.com/docs/api-reference/responses-streaming (named SSE events, each
 * `data` carrying `type` and an increasing `sequence_number`; no `[DONE]`).
 *
 * Behaviour: echoes the last user input text as `Hello from <flavor>: <text>`; when function tools
 * are given (and tool_choice is not `none`) and the input does not end with a
 * `function_call_output`, calls the first tool with `{"location":"Paris"}` (the tool and arguments a
 * `[[sim-tool NAME {...}]]` directive in the last user input names, see scripted-tool-call.ts); after a
 * `function_call_output` it answers `Tool said: <output>`. Stateless: `previous_response_id` is only
 * recorded (tests read it from the recorded request). Model `sim-broken-stream` sends
 * `response.created` and then drops the connection; model `sim-failed-stream` sends `response.created`
 * and then `response.failed` with `response.error` {code: "server_error", message} (as OpenAI ends a
 * stream whose generation failed). (A server without the Responses API is the
 * simulator option `responsesApi: false`.)
 */
import type { ServerResponse } from 'node:http';
import { scriptedToolCall } from './scripted-tool-call.ts';

type Json = Record<string, unknown>;

function countWords(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

function itemText(item: Json): string {
  if (typeof item.content === 'string') return item.content;
  if (Array.isArray(item.content)) {
    return (item.content as Json[]).map((part) => (typeof part.text === 'string' ? part.text : '')).join(' ');
  }
  return '';
}

let counter = 0;

export function simulateResponses(flavor: string, model: string, body: Json, response: ServerResponse): void {
  counter += 1;
  const suffix = counter.toString().padStart(6, '0');
  const id = `resp_sim${suffix}`;
  const items: Json[] =
    typeof body.input === 'string'
      ? [{ type: 'message', role: 'user', content: body.input }]
      : Array.isArray(body.input)
        ? (body.input as Json[])
        : [];
  const lastUser = [...items].reverse().find((item) => (item.type === 'message' || item.type === undefined) && item.role === 'user');
  const last = items.at(-1);
  const tools = Array.isArray(body.tools) ? (body.tools as Json[]).filter((tool) => tool.type === 'function') : [];
  const lastIsOutput = last?.type === 'function_call_output';
  const wantsTool = tools.length > 0 && body.tool_choice !== 'none' && !lastIsOutput;
  const reply = lastIsOutput ? `Tool said: ${String(last?.output ?? '')}` : `Hello from ${flavor}: ${lastUser ? itemText(lastUser) : ''}`;
  const inputTokens = items.reduce(
    (total, item) => total + countWords(item.type === 'function_call_output' ? String(item.output ?? '') : itemText(item)),
    0,
  );
  const pieces = reply.split(/(?<= )/);
  const outputTokens = wantsTool ? 7 : pieces.length;
  const usage = {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens + outputTokens,
  };
  const base: Json = {
    id,
    object: 'response',
    created_at: 1_731_000_000 + counter,
    status: 'in_progress',
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model,
    output: [],
    parallel_tool_calls: true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    store: body.store !== false,
    temperature: body.temperature ?? 1,
    text: body.text ?? { format: { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: body.top_p ?? 1,
    truncation: 'disabled',
    usage: null,
    user: null,
    metadata: body.metadata ?? {},
  };
  const messageId = `msg_sim${suffix}`;
  const callId = `call_sim${suffix}`;
  const functionId = `fc_sim${suffix}`;
  const scripted = wantsTool && lastUser ? scriptedToolCall(itemText(lastUser), tools.map((tool) => String(tool.name))) : undefined;
  const toolName = scripted?.name ?? String(tools[0]?.name ?? '');
  const toolArguments = scripted ? JSON.stringify(scripted.input) : '{"location":"Paris"}';
  const finalItem: Json = wantsTool
    ? { id: functionId, type: 'function_call', status: 'completed', arguments: toolArguments, call_id: callId, name: toolName }
    : {
        id: messageId,
        type: 'message',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: reply, annotations: [], logprobs: [] }],
      };
  const completed: Json = { ...base, status: 'completed', output: [finalItem], usage };

  if (body.stream !== true) {
    const text = JSON.stringify(completed);
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-request-id': `req_${id}` });
    response.end(text);
    return;
  }
  response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': `req_${id}` });
  let sequence = 0;
  const send = (type: string, fields: Json) => {
    response.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence, ...fields })}\n\n`);
    sequence += 1;
  };
  send('response.created', { response: base });
  if (model === 'sim-broken-stream') {
    // Let the first event reach the client before the connection drops.
    setTimeout(() => response.destroy(), 50);
    return;
  }
  if (model === 'sim-failed-stream') {
    const error = { code: 'server_error', message: 'The model failed to generate a response.' };
    send('response.failed', { response: { ...base, status: 'failed', error } });
    response.end();
    return;
  }
  send('response.in_progress', { response: base });
  if (wantsTool) {
    send('response.output_item.added', { output_index: 0, item: { ...finalItem, status: 'in_progress', arguments: '' } });
    for (const piece of [toolArguments.slice(0, 11), toolArguments.slice(11)])
      send('response.function_call_arguments.delta', { item_id: functionId, output_index: 0, delta: piece });
    send('response.function_call_arguments.done', {
      item_id: functionId,
      output_index: 0,
      name: toolName,
      arguments: toolArguments,
    });
  } else {
    send('response.output_item.added', {
      output_index: 0,
      item: { id: messageId, type: 'message', status: 'in_progress', role: 'assistant', content: [] },
    });
    send('response.content_part.added', {
      item_id: messageId,
      output_index: 0,
      content_index: 0,
      part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
    });
    for (const piece of pieces)
      send('response.output_text.delta', { item_id: messageId, output_index: 0, content_index: 0, delta: piece, logprobs: [] });
    send('response.output_text.done', { item_id: messageId, output_index: 0, content_index: 0, text: reply, logprobs: [] });
    send('response.content_part.done', {
      item_id: messageId,
      output_index: 0,
      content_index: 0,
      part: { type: 'output_text', text: reply, annotations: [], logprobs: [] },
    });
  }
  send('response.output_item.done', { output_index: 0, item: finalItem });
  send('response.completed', { response: completed });
  response.end();
}
