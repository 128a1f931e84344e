/**
 * Scripted failure sequences for the OpenAI simulator: `simulator.script(model, steps)` makes the
 * next requests for `model` (or `*`, any model) play the steps in order, one per request; once the
 * steps are used up the model answers normally. Every fault speaks the OpenAI wire format:
 * - errors: https://platform.openai.com/docs/guides/error-codes ({"error":{"message","type","param","code"}});
 *   429 carries `retry-after` (seconds), `retry-after-ms` or `x-ratelimit-reset-requests`
 *   (https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers);
 *   a too-long prompt is 400 `context_length_exceeded` with the message OpenAI sends;
 * - streams: https://platform.openai.com/docs/api-reference/chat/streaming (the opening chunk announces
 *   the role with empty content) and https://platform.openai.com/docs/api-reference/responses-streaming
 *   (`response.created` opens the stream); a cut is the connection closing without `data: [DONE]`.
 *
 * Steps: `ok`, `server-error` (500), `bad-gateway` (502), `overloaded` (503), `rate-limited:<seconds>`,
 * `rate-limited-ms:<ms>`, `rate-limited-reset:<duration>`, `not-found`, `context-length`,
 * `unauthorized` (401), `hang` (no answer at all), `hang-before-content` (stream opened, then nothing),
 * `cut-before-content`, `cut-after-content` (one content delta, then the connection drops).
 */
import type { ServerResponse } from 'node:http';

export type FaultStep = string;

export interface FaultScript {
  script(model: string, steps: FaultStep[]): void;
  /** The step for this request, consumed; undefined = answer normally. */
  take(model: string): FaultStep | undefined;
}

export function createFaultScript(): FaultScript {
  const scripts = new Map<string, FaultStep[]>();
  return {
    script(model, steps) {
      scripts.set(model, [...steps]);
    },
    take(model) {
      const steps = scripts.get(model)?.length ? scripts.get(model) : scripts.get('*');
      return steps?.shift();
    },
  };
}

function errorBody(response: ServerResponse, status: number, message: string, type: string, code: string | null, headers: Record<string, string> = {}, param: string | null = null): void {
  const text = JSON.stringify({ error: { message, type, param, code } });
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

function chunk(model: string, delta: Record<string, unknown>): string {
  return `data: ${JSON.stringify({ id: 'chatcmpl-scripted', object: 'chat.completion.chunk', created: 1_731_000_000, model, system_fingerprint: 'fp_sim', choices: [{ index: 0, delta, logprobs: null, finish_reason: null }] })}\n\n`;
}

function openStream(response: ServerResponse, endpoint: string, model: string): void {
  response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  if (endpoint === 'responses') {
    const created = { type: 'response.created', sequence_number: 0, response: { id: 'resp_scripted', object: 'response', status: 'in_progress', model, output: [] } };
    response.write(`event: response.created\ndata: ${JSON.stringify(created)}\n\n`);
  } else {
    response.write(chunk(model, { role: 'assistant', content: '', refusal: null }));
  }
}

function waitForClose(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (response.destroyed) resolve();
    else response.once('close', () => resolve());
  });
}

/** Plays one step; false when the step is `ok` (the simulator then answers normally). */
export async function playFault(step: FaultStep, endpoint: string, model: string, response: ServerResponse): Promise<boolean> {
  const [name, argument = ''] = step.split(':', 2) as [string, string?];
  switch (name) {
    case 'ok':
      return false;
    case 'server-error':
      errorBody(response, 500, 'The server had an error while processing your request. Sorry about that!', 'server_error', null);
      return true;
    case 'bad-gateway':
      errorBody(response, 502, 'Bad gateway.', 'server_error', null);
      return true;
    case 'overloaded':
      errorBody(response, 503, 'The engine is currently overloaded, please try again later.', 'server_error', 'overloaded');
      return true;
    case 'rate-limited':
      errorBody(response, 429, `Rate limit reached for ${model} on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in ${argument}s.`, 'requests', 'rate_limit_exceeded', {
        'retry-after': argument,
        'x-ratelimit-limit-requests': '3',
        'x-ratelimit-remaining-requests': '0',
      });
      return true;
    case 'rate-limited-ms':
      errorBody(response, 429, `Rate limit reached for ${model}. Please try again in ${argument}ms.`, 'requests', 'rate_limit_exceeded', { 'retry-after-ms': argument });
      return true;
    case 'rate-limited-reset':
      errorBody(response, 429, `Rate limit reached for ${model}.`, 'requests', 'rate_limit_exceeded', {
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': argument,
        'x-ratelimit-remaining-tokens': '9000',
        'x-ratelimit-reset-tokens': '6m0s',
      });
      return true;
    case 'not-found':
      errorBody(response, 404, `The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found');
      return true;
    case 'context-length':
      errorBody(
        response,
        400,
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens. Please reduce the length of the messages.",
        'invalid_request_error',
        'context_length_exceeded',
        {},
        'messages',
      );
      return true;
    case 'unauthorized':
      errorBody(response, 401, 'Incorrect API key provided: sk-****. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', 'invalid_api_key');
      return true;
    case 'hang':
      await waitForClose(response);
      return true;
    case 'hang-before-content':
      openStream(response, endpoint, model);
      await waitForClose(response);
      return true;
    case 'cut-before-content':
      openStream(response, endpoint, model);
      await new Promise((resolve) => setTimeout(resolve, 5));
      response.destroy();
      return true;
    case 'cut-after-content':
      openStream(response, endpoint, model);
      if (endpoint === 'responses') {
        const delta = { type: 'response.output_text.delta', sequence_number: 1, item_id: 'msg_scripted', output_index: 0, content_index: 0, delta: 'Partial ' };
        response.write(`event: response.output_text.delta\ndata: ${JSON.stringify(delta)}\n\n`);
      } else {
        response.write(chunk(model, { content: 'Partial ' }));
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
      response.destroy();
      return true;
    default:
      throw new Error(`unknown scripted step '${step}'`);
  }
}
