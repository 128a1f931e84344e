/**
 * The `guardrails-output` stage, the last before a provider is called (so it sees every attempt's
 * answer, and a blocked answer is never cached): checks and masks the answer, JSON at once, streams
 * as they flow (src/guardrails/output-stream.ts). A block is 400 `guardrail_blocked` for a JSON
 * answer and an error event for a stream.
 */
import type { ModelCall } from '../pipeline/model-call.ts';
import type { Stage } from '../pipeline/stage.ts';
import { readAnswerTexts, writeAnswerTexts } from './answer-text.ts';
import type { GuardrailSelection } from './guardrail-selection.ts';
import { checkStream, createOutputChecker } from './output-stream.ts';

export function createGuardrailsOutputStage(select: (call: ModelCall) => GuardrailSelection | null): Stage {
  return {
    name: 'guardrails-output',
    async handle(call, next) {
      const selection = select(call);
      if (!selection || (selection.output.length === 0 && selection.complete.length === 0) || call.endpoint === 'embeddings')
        return next(call);
      const result = await next(call);
      const checker = createOutputChecker(call, selection.output, selection.complete);
      if (result.kind === 'stream')
        return checkStream(result, checker, { textChecks: selection.output.length > 0, keepFull: selection.complete.length > 0 });
      const texts = readAnswerTexts(result.body);
      const checked = await checker.texts(texts);
      for (const text of checked) await checker.complete(text);
      if (checked === texts) return result;
      const { rawBody: _raw, ...rest } = result;
      return { ...rest, body: writeAnswerTexts(result.body, checked) };
    },
  };
}
