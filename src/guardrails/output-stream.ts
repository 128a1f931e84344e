/**
 * Output guardrails on a stream, checked as the text accumulates. The last 64 characters of each
 * choice are held back and checked again with the next delta, so a match of up to 64 characters
 * split over chunks is still found (and masked before it leaves). A block ends the stream: the
 * iterator throws `guardrail_blocked`, which the route sends as an error event in the caller's API
 * shape, and the call's record is an error. Guardrails that need the whole answer (json_schema, and
 * webhook/llm output checks) run when the upstream stream ends, before the stream's normal end.
 * Responses events that repeat the text (`*.done`, `response.completed`) are checked and masked too.
 */
import type { ModelCall } from '../pipeline/model-call.ts';
import type { Json, StreamChunk, StreamResult } from '../providers/types.ts';
import { readAnswerTexts, type StreamDelta, streamDeltas, writeAnswerTexts } from './answer-text.ts';
import { guardrailBlocked } from './guardrail-error.ts';
import { runGuardrails } from './guardrail-runner.ts';
import { recordChecks, recordEvents } from './guardrail-trace.ts';
import type { Guardrail, GuardrailEvent } from './guardrail-types.ts';

const holdback = 64;
/** Beyond this, held text is sent even if a mask changed its end (bounds what is held). */
const maxHeld = 4096;

function commonSuffixLength(left: string, right: string): number {
  let length = 0;
  while (length < left.length && length < right.length && left[left.length - 1 - length] === right[right.length - 1 - length]) length++;
  return length;
}

function withJson(chunk: StreamChunk, parsed: Json): StreamChunk {
  return { ...chunk, data: JSON.stringify(parsed), json: parsed };
}

interface Checker {
  /** Checks texts (block throws), returns them masked; flags are recorded once per guardrail. */
  texts(texts: string[]): Promise<string[]>;
  complete(text: string): Promise<void>;
}

export function createOutputChecker(call: ModelCall, groups: readonly Guardrail[][], complete: readonly Guardrail[]): Checker {
  const context = { call, phase: 'output' as const, placeholders: new Map<string, string>(), signal: call.context.signal };
  const reported = new Set<string>();
  const report = (events: GuardrailEvent[]) => {
    const fresh = events.filter((event) => !reported.has(`${event.name}:${event.action}`));
    for (const event of fresh) reported.add(`${event.name}:${event.action}`);
    recordEvents(call.trace, fresh);
  };
  return {
    async texts(texts) {
      if (groups.length === 0 || texts.length === 0) return texts;
      const outcome = await runGuardrails(
        groups,
        texts.map((text) => ({ role: 'output', text })),
        context,
      );
      report(outcome.events);
      recordChecks(call.trace, 'output', outcome.ran);
      if (outcome.blocked) throw guardrailBlocked(outcome.blocked.name, outcome.blocked.reason, 'output');
      return outcome.texts ?? texts;
    },
    async complete(text) {
      for (const guardrail of complete) {
        const decision = await guardrail.checkComplete?.(text, context);
        recordChecks(call.trace, 'output', [guardrail]);
        if (!decision || decision.action === 'allow') continue;
        const event: GuardrailEvent = {
          name: guardrail.name,
          type: guardrail.type,
          phase: 'output',
          action: decision.action,
          reason: decision.reason,
        };
        report([event]);
        if (decision.action === 'block') throw guardrailBlocked(guardrail.name, decision.reason, 'output');
      }
    },
  };
}

/** Masks (and checks) the texts a Responses event repeats in full. */
async function checkRepeatedText(parsed: Json, checker: Checker): Promise<Json> {
  if (typeof parsed.text === 'string') {
    const [text] = await checker.texts([parsed.text]);
    return { ...parsed, text };
  }
  const part = parsed.part as Json | undefined;
  if (part && typeof part.text === 'string') {
    const [text] = await checker.texts([part.text]);
    return { ...parsed, part: { ...part, text } };
  }
  for (const key of ['item', 'response'] as const) {
    const value = parsed[key] as Json | undefined;
    if (!value || typeof value !== 'object') continue;
    const holder = key === 'item' ? { output: [value] } : value;
    const texts = readAnswerTexts(holder);
    if (texts.length === 0) continue;
    const checked = await checker.texts(texts);
    const written = writeAnswerTexts(holder, checked);
    return { ...parsed, [key]: key === 'item' ? (written.output as Json[])[0] : written };
  }
  return parsed;
}

interface KeyState {
  pending: string;
  full: string;
  last: { chunk: StreamChunk; parsed: Json; delta: StreamDelta };
}

/** What to send of `buffer` now and what to hold (see the holdback rule above). */
function split(buffer: string, masked: string, finished: boolean): [send: string, held: string] {
  if (finished) return [masked, ''];
  if (masked === buffer) {
    const cut = Math.max(0, buffer.length - holdback);
    return [buffer.slice(0, cut), buffer.slice(cut)];
  }
  if (commonSuffixLength(buffer, masked) >= holdback)
    return [masked.slice(0, masked.length - holdback), buffer.slice(buffer.length - holdback)];
  if (buffer.length > maxHeld) return [masked, ''];
  return ['', buffer];
}

export function checkStream(result: StreamResult, checker: Checker, options: { textChecks: boolean; keepFull: boolean }): StreamResult {
  const source = result.chunks;
  async function* checked(): AsyncGenerator<StreamChunk> {
    const states = new Map<string, KeyState>();
    /** Sends what is held: before another Responses event, or at the end of the stream. */
    async function* release(final: boolean): AsyncGenerator<StreamChunk> {
      for (const [key, state] of states) {
        if (state.pending !== '') {
          const [text = ''] = await checker.texts([state.pending]);
          state.pending = '';
          if (final || state.last.chunk.event) yield withJson(state.last.chunk, state.last.delta.replace(state.last.parsed, text));
        }
        if (final) {
          states.delete(key);
          if (options.keepFull) await checker.complete(state.full);
        }
      }
    }
    for await (const chunk of source) {
      let parsed: Json;
      try {
        parsed = chunk.json ?? (JSON.parse(chunk.data) as Json);
      } catch {
        yield chunk;
        continue;
      }
      const deltas = streamDeltas(parsed, chunk.event);
      if (deltas.length === 0) {
        if (chunk.event && options.textChecks) {
          yield* release(false);
          yield withJson(chunk, await checkRepeatedText(parsed, checker));
        } else {
          yield chunk;
        }
        continue;
      }
      let out = parsed;
      for (const delta of deltas) {
        let state = states.get(delta.key);
        if (!state) {
          state = { pending: '', full: '', last: { chunk, parsed, delta } };
          states.set(delta.key, state);
        }
        state.last = { chunk, parsed, delta };
        if (options.keepFull) state.full += delta.text;
        if (options.textChecks) {
          const buffer = state.pending + delta.text;
          const [masked = buffer] = await checker.texts([buffer]);
          const [send, held] = split(buffer, masked, delta.finished);
          state.pending = held;
          out = delta.replace(out, send);
        }
        if (delta.finished) {
          states.delete(delta.key);
          if (options.keepFull) await checker.complete(state.full);
        }
      }
      yield out === parsed ? chunk : withJson(chunk, out);
    }
    yield* release(true);
  }
  return { ...result, chunks: checked() };
}
