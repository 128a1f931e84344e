/**
 * `pii`: personal data and secrets (src/guardrails/pii-detectors.ts). Masks them with `[EMAIL]`-style
 * labels, or, when `reversible`, with numbered placeholders (`[EMAIL_1]`, the same value always the
 * same placeholder within a call) that are put back into the answer (src/guardrails/placeholder-restore.ts).
 * Block and flag say which kinds were found, never the values.
 */
import type { CheckContext, Guardrail, GuardrailDecision, GuardrailPhase, TextSegment } from './guardrail-types.ts';
import { findPii, type PiiEntity } from './pii-detectors.ts';

export interface PiiGuardrailOptions {
  name: string;
  order: number;
  phases: ReadonlySet<GuardrailPhase>;
  entities: readonly PiiEntity[];
  action: 'block' | 'mask' | 'flag';
  reversible: boolean;
}

function label(entity: PiiEntity): string {
  return entity.toUpperCase();
}

function placeholderFor(value: string, entity: PiiEntity, placeholders: Map<string, string>): string {
  for (const [placeholder, original] of placeholders) if (original === value) return placeholder;
  const prefix = `[${label(entity)}_`;
  let count = 1;
  for (const placeholder of placeholders.keys()) if (placeholder.startsWith(prefix)) count++;
  const placeholder = `${prefix}${count}]`;
  placeholders.set(placeholder, value);
  return placeholder;
}

export function createPiiGuardrail(options: PiiGuardrailOptions): Guardrail {
  return {
    name: options.name,
    type: 'pii',
    order: options.order,
    phases: options.phases,
    check(segments: readonly TextSegment[], context: CheckContext): GuardrailDecision {
      const kinds = new Set<PiiEntity>();
      let changed = false;
      const reversible = options.reversible && context.phase === 'input';
      const texts = segments.map((segment) => {
        const found = findPii(segment.text, options.entities);
        if (found.length === 0) return segment.text;
        for (const match of found) kinds.add(match.entity);
        if (options.action !== 'mask') return segment.text;
        changed = true;
        let text = '';
        let position = 0;
        for (const match of found) {
          text += segment.text.slice(position, match.start);
          text += reversible ? placeholderFor(match.value, match.entity, context.placeholders) : `[${label(match.entity)}]`;
          position = match.end;
        }
        return text + segment.text.slice(position);
      });
      if (kinds.size === 0) return { action: 'allow' };
      const reason = `found ${[...kinds].join(', ')}`;
      if (options.action === 'mask') return changed ? { action: 'mask', texts, reason } : { action: 'allow' };
      return { action: options.action, reason };
    },
  };
}
