/**
 * Input guardrails end to end through the official clients (openai for chat and Responses,
 * @anthropic-ai/sdk for Messages) against the OpenAI simulator, which echoes the last user message:
 * block (400 guardrail_blocked naming the guardrail, in each API's error shape), mask (what goes
 * upstream), flag (x-modelgate-guardrails and the call's outcome), system prompts, max_input, and
 * reversible PII placeholders restored in JSON and streamed answers.
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

type Json = Record<string, unknown>;

const config = `
guardrails:
  enabled: false
  rules:
    - name: house-rules
      type: system_prompt
      mode: inject
      content: Answer briefly.
    - name: no-secrets-project
      type: regex
      patterns: ['project-zeus-\\d+']
      action: block
    - name: mild-language
      type: denylist
      words: [darn, heck]
      action: mask
      replacement: '***'
    - name: greeting-watch
      type: regex
      patterns: ['\\bgood morning\\b']
      flags: i
      action: flag
    - name: size-limit
      type: max_input
      max_characters: 4000
    - name: personal-data
      type: pii
      order: 1
      entities: [email, credit_card]
      reversible: true
`;

let simulator: Simulator;
let running: RunningGateway;
let openai: OpenAI;
let anthropic: Anthropic;
let directory: string;
const outcomes: CallOutcome[] = [];

function lastUpstream(): Json {
  // The last model call (the model list is refreshed in the background too).
  const body = simulator.requests.findLast((request) => request.method === 'POST')?.body;
  if (!body) throw new Error('no upstream request');
  return body;
}

function outcomeOf(requestId: string | null | undefined): CallOutcome | undefined {
  return outcomes.find((outcome) => outcome.requestId === requestId);
}

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'modelgate-guardrails-'));
  writeFileSync(join(directory, 'config.yaml'), config);
  simulator = await startOpenAISimulator({ apiKey: 'sk-openai' });
  running = await startGateway(
    {
      OPENAI_API_KEY: 'sk-openai',
      OPENAI_BASE_URL: simulator.baseUrl,
      MODELGATE_MASTER_KEY: 'mg-guard',
      GUARDRAILS_ENABLED: 'true',
      SQLITE_PATH: join(directory, 'gateway.db'),
    },
    { cwd: directory },
  );
  running.gateway.bus.subscribe((outcome) => outcomes.push(outcome));
  openai = new OpenAI({ apiKey: 'mg-guard', baseURL: `${running.url}/v1`, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: 'mg-guard', baseURL: running.url, maxRetries: 0 });
});

afterAll(async () => {
  await running?.close();
  await simulator?.close();
  if (directory) rmSync(directory, { recursive: true, force: true });
});

describe('guardrails on chat completions', () => {
  it('registers the input stage when GUARDRAILS_ENABLED is on', () => {
    expect(running.gateway.pipeline.stageNames()).toContain('guardrails-input');
  });

  it('blocks with 400 guardrail_blocked naming the guardrail, without calling upstream', async () => {
    const before = simulator.requests.length;
    const error = await openai.chat.completions
      .create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'status of project-zeus-42?' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const apiError = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(apiError.status).toBe(400);
    expect(apiError.code).toBe('guardrail_blocked');
    expect(apiError.message).toContain("guardrail 'no-secrets-project'");
    expect(apiError.message).not.toContain('project-zeus-42');
    expect(apiError.headers?.get('x-modelgate-guardrails')).toBe('no-secrets-project:block');
    expect(simulator.requests.length).toBe(before);
    const outcome = outcomeOf(apiError.headers?.get('x-request-id'));
    expect(outcome?.error?.code).toBe('guardrail_blocked');
    expect(outcome?.guardrails).toEqual([expect.objectContaining({ name: 'no-secrets-project', action: 'block', phase: 'input' })]);
  });

  it('masks denied words upstream, flags, injects the system prompt and reports it', async () => {
    const { data, response } = await openai.chat.completions
      .create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Good morning, what the heck is darn?' }] })
      .withResponse();
    const upstream = lastUpstream();
    expect(upstream.messages).toEqual([
      { role: 'system', content: 'Answer briefly.' },
      { role: 'user', content: 'Good morning, what the *** is ***?' },
    ]);
    expect(data.choices[0]?.message.content).toBe('Hello from openai: Good morning, what the *** is ***?');
    expect(response.headers.get('x-modelgate-guardrails')).toBe('mild-language:mask, greeting-watch:flag');
    const outcome = outcomeOf(response.headers.get('x-request-id'));
    expect(outcome?.guardrails?.map((event) => `${event.name}:${event.action}`)).toEqual([
      'mild-language:mask',
      'greeting-watch:flag',
      'house-rules:system_prompt',
    ]);
    expect(outcome?.policyVersion).toMatch(/^[0-9a-f]{12}$/);
  });

  it('keeps an existing system prompt with inject, and passes clean calls untouched', async () => {
    const { response } = await openai.chat.completions
      .create({
        model: 'openai/gpt-4o-mini',
        messages: [
          { role: 'system', content: 'Mine.' },
          { role: 'user', content: 'plain question' },
        ],
      })
      .withResponse();
    expect(lastUpstream().messages).toEqual([
      { role: 'system', content: 'Mine.' },
      { role: 'user', content: 'plain question' },
    ]);
    expect(response.headers.get('x-modelgate-guardrails')).toBeNull();
  });

  it('blocks input over max_input', async () => {
    const error = await openai.chat.completions
      .create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(4001) }] })
      .catch((caught: unknown) => caught);
    expect((error as { code?: string }).code).toBe('guardrail_blocked');
    expect((error as Error).message).toContain("'size-limit'");
  });

  it('sends PII upstream as placeholders and restores it in the answer, JSON and streamed', async () => {
    const content = 'Mail jane.doe@example.com, card 4111 1111 1111 1111, again jane.doe@example.com';
    const completion = await openai.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content }] });
    const sent = (lastUpstream().messages as Json[]).at(-1)?.content;
    expect(sent).toBe('Mail [EMAIL_1], card [CREDIT_CARD_1], again [EMAIL_1]');
    expect(completion.choices[0]?.message.content).toBe(`Hello from openai: ${content}`);

    const stream = await openai.chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(`Hello from openai: ${content}`);
    expect((lastUpstream().messages as Json[]).at(-1)?.content).toBe('Mail [EMAIL_1], card [CREDIT_CARD_1], again [EMAIL_1]');
  });

  it('leaves numbers that fail the Luhn check alone', async () => {
    await openai.chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'order 4111 1111 1111 1112' }],
    });
    expect((lastUpstream().messages as Json[]).at(-1)?.content).toBe('order 4111 1111 1111 1112');
  });
});

describe('guardrails on the Responses API', () => {
  it('blocks in the OpenAI shape', async () => {
    const error = await openai.responses
      .create({ model: 'openai/gpt-4o-mini', input: 'project-zeus-7 plans' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as { code?: string }).code).toBe('guardrail_blocked');
  });

  it('masks input items and instructions get the system prompt; placeholders restored, streamed too', async () => {
    const response = await openai.responses.create({
      model: 'openai/gpt-4o-mini',
      input: [{ role: 'user', content: 'darn, write to bob@example.org' }],
    });
    const upstream = lastUpstream();
    expect(upstream.instructions).toBe('Answer briefly.');
    expect(upstream.input).toEqual([{ role: 'user', content: '***, write to [EMAIL_1]' }]);
    expect(response.output_text).toBe('Hello from openai: ***, write to bob@example.org');

    const stream = await openai.responses.create({ model: 'openai/gpt-4o-mini', input: 'reach bob@example.org please', stream: true });
    let deltas = '';
    let done = '';
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') deltas += event.delta;
      if (event.type === 'response.completed') done = JSON.stringify(event.response.output);
    }
    expect(lastUpstream().input).toBe('reach [EMAIL_1] please');
    expect(deltas).toBe('Hello from openai: reach bob@example.org please');
    expect(done).toContain('"text":"Hello from openai: reach bob@example.org please"');
  });
});

describe('guardrails on the Anthropic Messages API', () => {
  it('blocks in the Anthropic error shape', async () => {
    const error = await anthropic.messages
      .create({ model: 'openai/gpt-4o-mini', max_tokens: 50, messages: [{ role: 'user', content: 'project-zeus-9?' }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    const apiError = error as InstanceType<typeof Anthropic.BadRequestError>;
    expect((apiError.error as { type?: string }).type).toBe('error');
    expect((apiError.error as { error?: { type?: string } }).error?.type).toBe('invalid_request_error');
    expect(apiError.message).toContain("guardrail 'no-secrets-project'");
  });

  it('masks, sets the system prompt, restores placeholders (JSON and streamed)', async () => {
    const message = await anthropic.messages.create({
      model: 'openai/gpt-4o-mini',
      max_tokens: 50,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'heck, mail ann@example.net' }] }],
    });
    const upstream = lastUpstream();
    expect((upstream.messages as Json[])[0]).toEqual({ role: 'system', content: 'Answer briefly.' });
    expect(JSON.stringify((upstream.messages as Json[]).at(-1))).toContain('***, mail [EMAIL_1]');
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'Hello from openai: ***, mail ann@example.net' });

    const final = await anthropic.messages
      .stream({
        model: 'openai/gpt-4o-mini',
        max_tokens: 50,
        system: 'Own prompt.',
        messages: [{ role: 'user', content: 'mail ann@example.net' }],
      })
      .finalMessage();
    expect((lastUpstream().messages as Json[])[0]).toEqual({ role: 'system', content: 'Own prompt.' });
    expect(final.content[0]).toMatchObject({ type: 'text', text: 'Hello from openai: mail ann@example.net' });
  });
});
