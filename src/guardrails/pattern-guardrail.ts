/**
 * Guardrails that look for patterns in text: `regex` (the patterns as given) and `denylist` (words
 * or phrases, whole words by default, case-insensitive by default). Either blocks, masks the match
 * (the text upstream carries the replacement instead) or flags the call.
 */
import type { Guardrail, GuardrailDecision, GuardrailPhase, TextSegment } from './guardrail-types.ts';

export interface PatternGuardrailOptions {
  name: string;
  type: 'regex' | 'denylist';
  order: number;
  phases: ReadonlySet<GuardrailPhase>;
  patterns: RegExp[];
  action: 'block' | 'mask' | 'flag';
  replacement: string;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** One pattern for a list of words: alternatives, longest first, between non-word characters when `wholeWords`. */
export function denylistPattern(words: readonly string[], caseSensitive: boolean, wholeWords: boolean): RegExp {
  const alternatives = [...new Set(words)]
    .sort((left, right) => right.length - left.length)
    .map(escapeRegExp)
    .join('|');
  const source = wholeWords ? `(?<![\\p{L}\\p{N}_])(?:${alternatives})(?![\\p{L}\\p{N}_])` : `(?:${alternatives})`;
  return new RegExp(source, caseSensitive ? 'gu' : 'giu');
}

function matches(pattern: RegExp, text: string): boolean {
  pattern.lastIndex = 0;
  const found = pattern.test(text);
  pattern.lastIndex = 0;
  return found;
}

export function createPatternGuardrail(options: PatternGuardrailOptions): Guardrail {
  const { patterns, action, replacement } = options;
  const what = options.type === 'regex' ? 'a blocked pattern' : 'a denied word or phrase';
  return {
    name: options.name,
    type: options.type,
    order: options.order,
    phases: options.phases,
    check(segments: readonly TextSegment[]): GuardrailDecision {
      if (action !== 'mask') {
        const hit = segments.some((segment) => patterns.some((pattern) => matches(pattern, segment.text)));
        if (!hit) return { action: 'allow' };
        return { action, reason: `the text contains ${what}` };
      }
      let changed = false;
      const texts = segments.map((segment) => {
        let text = segment.text;
        for (const pattern of patterns) {
          pattern.lastIndex = 0;
          text = text.replace(pattern, replacement);
        }
        if (text !== segment.text) changed = true;
        return text;
      });
      return changed ? { action: 'mask', texts, reason: `masked ${what}` } : { action: 'allow' };
    },
  };
}
