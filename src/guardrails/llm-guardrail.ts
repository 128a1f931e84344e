/**
 * `llm`: an auxiliary model, served by the gateway's own providers, judges or rewrites the text
 * (GoModel's `llm_based_altering` is the rewrite mode).
 * - judge: the model gets the judge prompt as system message and the text as user message (several
 *   messages each on its own line as `role: text`), and must answer starting with ALLOW or BLOCK (a reason may follow).
 * - rewrite: each user message (on input) or the answer (on output) is sent with the rewrite prompt;
 *   the model's answer replaces it.
 * A timeout, a provider error or an answer that is neither ALLOW nor BLOCK is a failure, handled by
 * `fail_mode` (open: allow and record a flag; closed: block).
 */
import type { ModelCall } from '../pipeline/model-call.ts';
import type { CheckContext, Guardrail, GuardrailDecision, GuardrailPhase, TextSegment } from './guardrail-types.ts';

/** The call a guardrail's model call is made for (its usage is recorded for that call's key). */
export interface CompletionOrigin {
  call: ModelCall;
  guardrail: string;
}

/** Calls a model (`provider/model` or a bare id) with chat messages and returns the answer's text. */
export type CompleteText = (
  model: string,
  messages: { role: string; content: string }[],
  signal: AbortSignal,
  origin?: CompletionOrigin,
) => Promise<string>;

export const defaultJudgePrompt =
  'You check text sent to or produced by an AI assistant. Reply with the single word ALLOW if it is acceptable, ' +
  'or BLOCK followed by a short reason if it is harmful, abusive or asks for something dangerous.';
export const defaultRewritePrompt =
  'Rewrite the text you are given so that it is polite and contains no personal data, keeping its meaning. ' +
  'Reply with the rewritten text only.';

export interface LlmGuardrailOptions {
  name: string;
  order: number;
  phases: ReadonlySet<GuardrailPhase>;
  model: string;
  mode: 'judge' | 'rewrite';
  prompt: string | undefined;
  timeoutMs: number;
  failMode: 'open' | 'closed';
  complete: CompleteText;
}

/** At most this many messages are rewritten per call (the latest ones). */
const maxRewrites = 16;

export function createLlmGuardrail(options: LlmGuardrailOptions): Guardrail {
  const failure = (why: string): GuardrailDecision =>
    options.failMode === 'open'
      ? { action: 'flag', reason: `${why}; allowed (fail_mode open)` }
      : { action: 'block', reason: `${why} (fail_mode closed)` };

  async function judge(segments: readonly TextSegment[], signal: AbortSignal, origin: CompletionOrigin): Promise<GuardrailDecision> {
    const text =
      segments.length === 1 ? (segments[0] as TextSegment).text : segments.map((segment) => `${segment.role}: ${segment.text}`).join('\n');
    const answer = await options.complete(
      options.model,
      [
        { role: 'system', content: options.prompt ?? defaultJudgePrompt },
        { role: 'user', content: text },
      ],
      signal,
      origin,
    );
    const verdict = answer.trim();
    if (/^ALLOW\b/i.test(verdict)) return { action: 'allow' };
    if (/^BLOCK\b/i.test(verdict)) {
      const reason = verdict.replace(/^BLOCK[\s:.-]*/i, '').slice(0, 200);
      return { action: 'block', reason: reason === '' ? 'the judge model said BLOCK' : `the judge model said: ${reason}` };
    }
    return failure('the judge model answered neither ALLOW nor BLOCK');
  }

  async function rewrite(
    segments: readonly TextSegment[],
    phase: GuardrailPhase,
    signal: AbortSignal,
    origin: CompletionOrigin,
  ): Promise<GuardrailDecision> {
    const wanted = segments
      .map((segment, index) => ((phase === 'output' || segment.role === 'user') && segment.text.trim() !== '' ? index : -1))
      .filter((index) => index >= 0);
    const chosen = wanted.slice(-maxRewrites);
    const texts = segments.map((segment) => segment.text);
    const answers = await Promise.all(
      chosen.map((index) =>
        options.complete(
          options.model,
          [
            { role: 'system', content: options.prompt ?? defaultRewritePrompt },
            { role: 'user', content: texts[index] as string },
          ],
          signal,
          origin,
        ),
      ),
    );
    chosen.forEach((index, position) => {
      texts[index] = answers[position] as string;
    });
    return { action: 'modify', texts, reason: `rewritten by ${options.model}` };
  }

  return {
    name: options.name,
    type: 'llm',
    order: options.order,
    phases: options.phases,
    async check(segments: readonly TextSegment[], context: CheckContext): Promise<GuardrailDecision> {
      const signal = AbortSignal.any([context.signal, AbortSignal.timeout(options.timeoutMs)]);
      try {
        const origin = { call: context.call, guardrail: options.name };
        return options.mode === 'judge' ? await judge(segments, signal, origin) : await rewrite(segments, context.phase, signal, origin);
      } catch {
        return failure(
          signal.aborted && !context.signal.aborted ? `the model did not answer within ${options.timeoutMs} ms` : 'the model call failed',
        );
      }
    },
  };
}
