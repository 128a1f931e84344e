/**
 * Output guardrails end to end through the official clients against the OpenAI simulator (which
 * echoes the last user message, so the test chooses the answer): blocks and masks on JSON answers,
 * masks split over stream chunks, a stream blocked mid-way (error event in each API's shape, error
 * record), and json_schema on the whole answer.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallOutcome } from '../src/core/outcome.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';
import { type Simulator, startOpenAISimulator } from './simulators/openai-simulator.ts';

const rules = `
guardrails:
  rules:
    - name: leak-stop
      type: regex
      phase: output
      patterns: ['forbidden-answer']
    - name: plan-mask
      type: regex
      phase: output
      patterns: ['top secret plan']
      action: mask
      replacement: '[plan]'
    - name: answer-pii
      type: pii
      phase: output
      entities: [email]
`;

const schemaRules = `
guardrails:
  rules:
    - name: answer-shape
      type: json_schema
      schema:
        type: object
        required: [answer]
        properties:
          answer: { type: string }
`;

let simulator: Simulator;
const directories: string[] = [];
const gateways: RunningGateway[] = [];
const outcomes: CallOutcome[] = [];

async function gatewayWith(yaml: string): Promise<{ openai: OpenAI; anthropic: Anthropic }> {
  const directory = mkdtempSync(join(tmpdir(), 'modelgate-guardrails-out-'));
  directories.push(directory);
  writeFileSync(join(directory, 'config.yaml'), yaml);
  const running = await startGateway(
    {
      OPENAI_API_KEY: 'sk-openai',
      OPENAI_BASE_URL: simulator.baseUrl,
      MODELGATE_MASTER_KEY: 'mg-out',
      GUARDRAILS_ENABLED: 'true',
      SQLITE_PATH: join(directory, 'gateway.db'),
    },
    { cwd: directory },
  );
  gateways.push(running);
  running.gateway.bus.subscribe((outcome) => outcomes.push(outcome));
  return {
    openai: new OpenAI({ apiKey: 'mg-out', baseURL: `${running.url}/v1`, maxRetries: 0 }),
    anthropic: new Anthropic({ apiKey: 'mg-out', baseURL: running.url, maxRetries: 0 }),
  };
}

let openai: OpenAI;
let anthropic: Anthropic;
let schemaClient: OpenAI;

beforeAll(async () => {
  simulator = await startOpenAISimulator({ apiKey: 'sk-openai' });
  ({ openai, anthropic } = await gatewayWith(rules));
  ({ openai: schemaClient } = await gatewayWith(schemaRules));
});

afterAll(async () => {
  for (const running of gateways) await running.close();
  await simulator?.close();
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const model = 'openai/gpt-4o-mini';
const filler = 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen';

describe('output guardrails on JSON answers', () => {
  it('blocks an answer with 400 guardrail_blocked (the input passed: the rule is output only)', async () => {
    const error = await openai.chat.completions
      .create({ model, messages: [{ role: 'user', content: 'say forbidden-answer' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as { code?: string }).code).toBe('guardrail_blocked');
    expect((error as Error).message).toContain("Response blocked by guardrail 'leak-stop'");
    expect(simulator.requests.findLast((request) => request.method === 'POST')?.body?.messages).toEqual([{ role: 'user', content: 'say forbidden-answer' }]);
  });

  it('masks the answer, on chat, Responses and Messages', async () => {
    const chat = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'the top secret plan, mail x@y.io' }] });
    expect(chat.choices[0]?.message.content).toBe('Hello from openai: the [plan], mail [EMAIL]');
    const response = await openai.responses.create({ model, input: 'the top secret plan' });
    expect(response.output_text).toBe('Hello from openai: the [plan]');
    const message = await anthropic.messages.create({
      model,
      max_tokens: 50,
      messages: [{ role: 'user', content: 'the top secret plan' }],
    });
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'Hello from openai: the [plan]' });
  });
});

describe('output guardrails during a stream', () => {
  it('masks a match split over chunks', async () => {
    const stream = await openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: `${filler} the top secret plan is ${filler}` }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(`Hello from openai: ${filler} the [plan] is ${filler}`);
  });

  it('ends a chat stream mid-way with an error event and records an error', async () => {
    const stream = await openai.chat.completions.create({
      model,
      messages: [{ role: 'user', content: `${filler} ${filler} forbidden-answer ${filler}` }],
      stream: true,
    });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toContain("guardrail 'leak-stop'");
    expect(text.startsWith('Hello from openai: one two')).toBe(true);
    expect(text).not.toContain('forbidden');
    await expect
      .poll(() =>
        outcomes.find(
          (outcome) => outcome.error?.code === 'guardrail_blocked' && outcome.stream && outcome.endpoint === 'chat.completions',
        ),
      )
      .toBeTruthy();
    const outcome = outcomes.find(
      (item) => item.error?.code === 'guardrail_blocked' && item.stream && item.endpoint === 'chat.completions',
    );
    expect(outcome?.status).toBe(400);
    expect(outcome?.guardrails).toEqual([expect.objectContaining({ name: 'leak-stop', phase: 'output', action: 'block' })]);
  });

  it('ends a Messages stream with an Anthropic error event', async () => {
    const stream = anthropic.messages.stream({
      model,
      max_tokens: 50,
      messages: [{ role: 'user', content: `${filler} forbidden-answer` }],
    });
    const error = await stream.finalMessage().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as Error).message).toContain("guardrail 'leak-stop'");
  });

  it('ends a native Responses stream with an error event and masks the repeated texts', async () => {
    const masked = await openai.responses.create({ model, input: `${filler} the top secret plan`, stream: true });
    let deltas = '';
    let completed = '';
    for await (const event of masked) {
      if (event.type === 'response.output_text.delta') deltas += event.delta;
      if (event.type === 'response.completed') completed = JSON.stringify(event.response.output);
    }
    expect(deltas).toBe(`Hello from openai: ${filler} the [plan]`);
    expect(completed).toContain('the [plan]');
    expect(completed).not.toContain('secret');

    const blocked = await openai.responses.create({ model, input: `${filler} forbidden-answer`, stream: true });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const event of blocked) seen.push(event.type);
    })().catch((caught: unknown) => caught);
    const failed = error !== undefined || seen.includes('error');
    expect(failed).toBe(true);
    expect(seen).not.toContain('response.completed');
  });
});

describe('json_schema on the output', () => {
  it('passes a matching JSON answer and blocks one that does not match, JSON and streamed', async () => {
    const good = await schemaClient.chat.completions.create({
      model: 'openai/sim-verbatim',
      messages: [{ role: 'user', content: '{"answer": "yes"}' }],
    });
    expect(good.choices[0]?.message.content).toBe('{"answer": "yes"}');
    const bad = await schemaClient.chat.completions
      .create({ model: 'openai/sim-verbatim', messages: [{ role: 'user', content: '{"reply": 1}' }] })
      .catch((caught: unknown) => caught);
    expect((bad as { code?: string }).code).toBe('guardrail_blocked');
    expect((bad as Error).message).toContain("must have required property 'answer'");
    const prose = await schemaClient.chat.completions
      .create({ model: 'openai/sim-verbatim', messages: [{ role: 'user', content: 'just words' }] })
      .catch((caught: unknown) => caught);
    expect((prose as Error).message).toContain('the answer is not JSON');

    const stream = await schemaClient.chat.completions.create({
      model: 'openai/sim-verbatim',
      messages: [{ role: 'user', content: '{"reply": 2}' }],
      stream: true,
    });
    const error = await (async () => {
      for await (const _chunk of stream) {
        // consumed
      }
    })().catch((caught: unknown) => caught);
    expect((error as Error).message).toContain("guardrail 'answer-shape'");
  });
});
