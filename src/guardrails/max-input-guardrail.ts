/**
 * `max_input`: blocks a request whose text is longer than `max_characters`, or than `max_tokens`
 * estimated at about four characters per token (the estimate /v1/messages/count_tokens gives).
 */
import type { Guardrail, GuardrailDecision, GuardrailPhase, TextSegment } from './guardrail-types.ts';

export function estimateTokens(characters: number): number {
  return Math.ceil(characters / 4);
}

export function createMaxInputGuardrail(options: {
  name: string;
  order: number;
  phases: ReadonlySet<GuardrailPhase>;
  maxCharacters?: number | undefined;
  maxTokens?: number | undefined;
}): Guardrail {
  return {
    name: options.name,
    type: 'max_input',
    order: options.order,
    phases: options.phases,
    check(segments: readonly TextSegment[]): GuardrailDecision {
      let characters = 0;
      for (const segment of segments) characters += segment.text.length;
      if (options.maxCharacters !== undefined && characters > options.maxCharacters) {
        return { action: 'block', reason: `the input has ${characters} characters, more than the ${options.maxCharacters} allowed` };
      }
      const tokens = estimateTokens(characters);
      if (options.maxTokens !== undefined && tokens > options.maxTokens) {
        return { action: 'block', reason: `the input has about ${tokens} tokens, more than the ${options.maxTokens} allowed` };
      }
      return { action: 'allow' };
    },
  };
}
