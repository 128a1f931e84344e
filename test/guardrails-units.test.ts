/**
 * Guardrail building blocks: PII detection (Luhn, IBAN mod-97, IP addresses, provider key formats),
 * placeholders restored when split over stream chunks, the runner's order semantics (same order in
 * parallel, different orders in sequence), request text of the three inbound shapes, configuration.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createGateway } from '../src/app.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { createGuardrailsExtension } from '../src/guardrails/guardrails-extension.ts';
import { createGuardrail } from '../src/guardrails/create-guardrail.ts';
import type { CheckContext, Guardrail, TextSegment } from '../src/guardrails/guardrail-types.ts';
import { groupByOrder, runGuardrails } from '../src/guardrails/guardrail-runner.ts';
import { guardrailDefinitionSchema } from '../src/guardrails/guardrails-config.ts';
import { findPii, ibanValid, luhnValid } from '../src/guardrails/pii-detectors.ts';
import { createDeltaRestorer, restorePlaceholders } from '../src/guardrails/placeholder-restore.ts';
import { readAnswerTexts, writeAnswerTexts } from '../src/guardrails/answer-text.ts';
import { applySystemPrompt, copyForRewrite, readSegments, writeSegments } from '../src/guardrails/request-text.ts';
import type { StreamChunk } from '../src/providers/types.ts';

const context = (): CheckContext => ({ call: {} as never, phase: 'input', placeholders: new Map(), signal: new AbortController().signal });

describe('PII detectors', () => {
  it('checks card numbers with Luhn and IBANs with mod-97', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    // Example IBANs of the ISO 13616 registry (swift.com IBAN registry): DE and GB.
    expect(ibanValid('DE89 3704 0044 0532 0130 00')).toBe(true);
    expect(ibanValid('GB82WEST12345698765432')).toBe(true);
    expect(ibanValid('GB82WEST12345698765433')).toBe(false);
  });

  it('finds each kind and skips look-alikes', () => {
    const text = [
      'mail a.b+c@mail.example.co.uk',
      'card 5500-0000-0000-0004 and 1234 5678 9012 3456',
      'iban DE89370400440532013000 or DE00370400440532013000',
      'ip 192.168.1.20, 2001:db8::1, not 999.1.1.1',
      'call +44 20 7946 0958',
      'key sk-proj-abcdefghijklmnopqrstuvwxyz012345 and AKIAIOSFODNN7EXAMPLE',
      'date 2026-12-02',
    ].join('\n');
    const found = findPii(text, ['secret', 'email', 'iban', 'credit_card', 'ip_address', 'phone']).map(
      (match) => `${match.entity}=${match.value}`,
    );
    expect(found).toEqual([
      'email=a.b+c@mail.example.co.uk',
      'credit_card=5500-0000-0000-0004',
      'iban=DE89370400440532013000',
      'ip_address=192.168.1.20',
      'ip_address=2001:db8::1',
      'phone=+44 20 7946 0958',
      'secret=sk-proj-abcdefghijklmnopqrstuvwxyz012345',
      'secret=AKIAIOSFODNN7EXAMPLE',
    ]);
  });

  it('masks with labels, or numbered placeholders that repeat for the same value', async () => {
    const plain = createGuardrail(guardrailDefinitionSchema.parse({ name: 'p', type: 'pii', entities: ['email'] }));
    expect(await plain.check?.([{ role: 'user', text: 'x@y.io and z@y.io' }], context())).toMatchObject({
      action: 'mask',
      texts: ['[EMAIL] and [EMAIL]'],
    });
    const reversible = createGuardrail(guardrailDefinitionSchema.parse({ name: 'r', type: 'pii', entities: ['email'], reversible: true }));
    const run = context();
    const decision = await reversible.check?.(
      [
        { role: 'user', text: 'x@y.io, z@y.io' },
        { role: 'user', text: 'x@y.io' },
      ],
      run,
    );
    expect(decision).toMatchObject({ texts: ['[EMAIL_1], [EMAIL_2]', '[EMAIL_1]'] });
    expect([...run.placeholders]).toEqual([
      ['[EMAIL_1]', 'x@y.io'],
      ['[EMAIL_2]', 'z@y.io'],
    ]);
    const block = createGuardrail(guardrailDefinitionSchema.parse({ name: 'b', type: 'pii', action: 'block' }));
    expect(await block.check?.([{ role: 'user', text: 'my key AIzaSyA1234567890abcdefghijklmnopqrstuv' }], context())).toEqual({
      action: 'block',
      reason: 'found secret',
    });
  });
});

describe('placeholder restore', () => {
  const placeholders = new Map([['[EMAIL_1]', 'jane@example.com']]);

  it('holds back a placeholder split over deltas, at any split point', () => {
    const answer = 'Write to [EMAIL_1] today [not a placeholder] [EMAIL_1]';
    for (let cut = 1; cut < answer.length; cut++) {
      for (let second = cut + 1; second <= answer.length; second++) {
        const restorer = createDeltaRestorer(placeholders);
        const sent =
          restorer.add('k', answer.slice(0, cut)) +
          restorer.add('k', answer.slice(cut, second)) +
          restorer.add('k', answer.slice(second)) +
          restorer.flush('k');
        expect(sent).toBe('Write to jane@example.com today [not a placeholder] jane@example.com');
      }
    }
  });

  it('restores chat chunks, flushing at finish_reason', async () => {
    const deltas = ['Hi [EM', 'AIL', '_1', ']', ' bye ['];
    const chunks: StreamChunk[] = deltas.map((content) => ({
      data: JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null }] }),
    }));
    chunks.push({ data: JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }) });
    async function* source() {
      yield* chunks;
    }
    const result = restorePlaceholders({ kind: 'stream', status: 200, headers: {}, chunks: source(), usage: () => null }, placeholders);
    if (result.kind !== 'stream') throw new Error('expected a stream');
    let text = '';
    for await (const chunk of result.chunks)
      text += (JSON.parse(chunk.data) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '';
    expect(text).toBe('Hi jane@example.com bye [');
  });
});

describe('runner', () => {
  function slow(name: string, order: number, log: string[], rewrite?: (text: string) => string): Guardrail {
    return {
      name,
      type: 'test',
      order,
      phases: new Set(['input']),
      async check(segments: readonly TextSegment[]) {
        log.push(`start ${name} ${segments[0]?.text}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        log.push(`end ${name}`);
        if (!rewrite) return { action: 'flag', reason: name };
        return { action: 'modify', texts: segments.map((segment) => rewrite(segment.text)), reason: name };
      },
    };
  }

  it('runs the same order in parallel and different orders in sequence', async () => {
    const log: string[] = [];
    const guardrails = [slow('a', 0, log, (text) => `${text}+a`), slow('b', 0, log), slow('c', 5, log, (text) => `${text}+c`)];
    const outcome = await runGuardrails(groupByOrder(guardrails), [{ role: 'user', text: 'x' }], context());
    expect(log).toEqual(['start a x', 'start b x', 'end a', 'end b', 'start c x+a', 'end c']);
    expect(outcome.texts).toEqual(['x+a+c']);
    expect(outcome.events.map((event) => `${event.name}:${event.action}`)).toEqual(['a:modify', 'b:flag', 'c:modify']);
  });

  it('stops at a block and fails closed when a guardrail throws', async () => {
    const broken: Guardrail = {
      name: 'broken',
      type: 'test',
      order: 0,
      phases: new Set(['input']),
      check: () => Promise.reject(new Error('boom')),
    };
    const outcome = await runGuardrails([[broken]], [{ role: 'user', text: 'x' }], context());
    expect(outcome.blocked).toEqual({ name: 'broken', reason: 'the guardrail failed' });
  });
});

describe('request text', () => {
  it('reads and rewrites text of the three shapes, leaving other parts alone', () => {
    const messages = {
      system: [{ type: 'text', text: 'sys' }],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'hi' },
            { type: 'image', source: {} },
            { type: 'tool_result', tool_use_id: 't', content: 'out' },
          ],
        },
      ],
    };
    expect(readSegments('messages', messages)).toEqual([
      { role: 'system', text: 'sys' },
      { role: 'user', text: 'hi' },
      { role: 'tool', text: 'out' },
    ]);
    const rewritten = writeSegments('messages', messages, ['SYS', 'HI', 'OUT']);
    expect(rewritten).toEqual({
      system: [{ type: 'text', text: 'SYS' }],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'HI' },
            { type: 'image', source: {} },
            { type: 'tool_result', tool_use_id: 't', content: 'OUT' },
          ],
        },
      ],
    });
    expect(messages.system[0]?.text).toBe('sys');
    const responses = {
      instructions: 'be kind',
      input: [
        { role: 'user', content: [{ type: 'input_text', text: 'q' }] },
        { type: 'function_call_output', call_id: 'c', output: 'r' },
      ],
    };
    expect(readSegments('responses', responses).map((segment) => `${segment.role}:${segment.text}`)).toEqual([
      'system:be kind',
      'user:q',
      'tool:r',
    ]);
  });

  it('rewrites and system prompts change a copy: the original body stays as it was, images are shared, not copied', () => {
    const image = { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } };
    const bodies = {
      chat: {
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'sys' }] },
          { role: 'user', content: [{ type: 'text', text: 'hi' }, image] },
        ],
      },
      responses: { instructions: 'be kind', input: [{ role: 'developer', content: [{ type: 'input_text', text: 'dev' }] }] },
      messages: {
        system: [{ type: 'text', text: 'sys' }],
        messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'out' }] }] }],
      },
    } as const;
    for (const [shape, body] of Object.entries(bodies) as [keyof typeof bodies, Record<string, unknown>][]) {
      const before = structuredClone(body);
      const texts = readSegments(shape, body).map((segment) => segment.text.toUpperCase());
      const rewritten = writeSegments(shape, body, texts);
      expect(readSegments(shape, rewritten).map((segment) => segment.text)).toEqual(texts);
      for (const mode of ['decorator', 'override'] as const) {
        applySystemPrompt(shape, copyForRewrite(shape, body), mode, 'gw');
        applySystemPrompt(shape, copyForRewrite(shape, rewritten), mode, 'gw');
      }
      expect(body, shape).toEqual(before);
    }
    const rewritten = writeSegments('chat', bodies.chat, ['SYS', 'HI']) as { messages: { content: { image_url?: unknown }[] }[] };
    expect(rewritten.messages[1]?.content[1]?.image_url).toBe(image.image_url);
  });

  it('rewrites answer texts (chat and Responses) in a copy: the answer as given stays as it was', () => {
    const toolCalls = [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }];
    const chat = { choices: [{ index: 0, message: { role: 'assistant', content: 'mail a@b.io', tool_calls: toolCalls } }] };
    const responses = {
      output: [
        {
          type: 'message',
          content: [
            { type: 'output_text', text: 'one' },
            { type: 'refusal', refusal: 'no' },
          ],
        },
      ],
      output_text: 'one',
    };
    for (const body of [chat, responses] as Record<string, unknown>[]) {
      const before = structuredClone(body);
      const texts = readAnswerTexts(body).map((text) => text.toUpperCase());
      const rewritten = writeAnswerTexts(body, texts);
      expect(readAnswerTexts(rewritten)).toEqual(texts);
      expect(body).toEqual(before);
    }
    expect(writeAnswerTexts(responses, ['ONE']).output_text).toBe('ONE');
    const rewritten = writeAnswerTexts(chat, ['x']) as typeof chat;
    expect(rewritten.choices[0]?.message.tool_calls).toBe(toolCalls);
  });

  it('applies inject, override and decorator system prompts', () => {
    const chat = () => ({
      messages: [
        { role: 'system', content: 'mine' },
        { role: 'user', content: 'q' },
      ],
    });
    const injected = chat();
    applySystemPrompt('chat', injected, 'inject', 'gw');
    expect(injected.messages[0]).toEqual({ role: 'system', content: 'mine' });
    const overridden = chat();
    applySystemPrompt('chat', overridden, 'override', 'gw');
    expect(overridden.messages).toEqual([
      { role: 'system', content: 'gw' },
      { role: 'user', content: 'q' },
    ]);
    const decorated = chat();
    applySystemPrompt('chat', decorated, 'decorator', 'gw');
    expect(decorated.messages[0]).toEqual({ role: 'system', content: 'gw\n\nmine' });
    const anthropic: Record<string, unknown> = { messages: [] };
    applySystemPrompt('messages', anthropic, 'decorator', 'gw');
    expect(anthropic.system).toBe('gw');
    const responses: Record<string, unknown> = { instructions: 'mine', input: 'q' };
    applySystemPrompt('responses', responses, 'override', 'gw');
    expect(responses.instructions).toBe('gw');
  });
});

describe('configuration', () => {
  it('is off by default and names bad keys', () => {
    expect(loadConfig({}, '/nonexistent').guardrails.enabled).toBe(false);
    expect(loadConfig({ GUARDRAILS_ENABLED: 'true' }, '/nonexistent').guardrails).toEqual({
      enabled: true,
      rules: [],
      refreshSeconds: 10,
      batchProcessing: false,
    });
    expect(() => loadConfig({ GUARDRAILS_ENABLED: 'maybe' }, '/nonexistent')).toThrow(/GUARDRAILS_ENABLED/);
    expect(loadConfig({ ENABLE_GUARDRAILS_FOR_BATCH_PROCESSING: 'true' }, '/nonexistent').guardrails.batchProcessing).toBe(true);
    expect(() => loadConfig({ ENABLE_GUARDRAILS_FOR_BATCH_PROCESSING: 'sometimes' }, '/nonexistent')).toThrow(
      /ENABLE_GUARDRAILS_FOR_BATCH_PROCESSING/,
    );
    expect(guardrailDefinitionSchema.safeParse({ name: 'r', type: 'regex', patterns: ['('] }).success).toBe(false);
    expect(guardrailDefinitionSchema.safeParse({ name: 'm', type: 'max_input' }).success).toBe(false);
  });

  it('registers no stage when off, so calls pay nothing', async () => {
    const logger = pino({ level: 'silent' });
    const off = await createGateway(loadConfig({}, '/nonexistent'), logger, [createGuardrailsExtension()]);
    expect(off.pipeline.stageNames().filter((name) => name.startsWith('guardrails'))).toEqual([]);
    const on = await createGateway(loadConfig({ GUARDRAILS_ENABLED: '1' }, '/nonexistent'), logger, [createGuardrailsExtension()]);
    expect(on.pipeline.stageNames()).toContain('guardrails-input');
    await off.close();
    await on.close();
  });
});
