/**
 * What a guardrail is once compiled from its definition (config.yaml or the admin API): a name, an
 * order, the phases it runs in, and checks that look at the text of a request or an answer.
 */
import type { ModelCall } from '../pipeline/model-call.ts';

export type GuardrailPhase = 'input' | 'output';

/** One piece of text of a request (a message's text, a system prompt) or of an answer. */
export interface TextSegment {
  /** system, developer, user, assistant, tool; `output` for an answer. */
  role: string;
  text: string;
}

/** What a check decides. `texts` (a rewrite) has one entry per segment it was given, in order. */
export type GuardrailDecision =
  | { action: 'allow' }
  | { action: 'block'; reason: string }
  | { action: 'flag'; reason: string }
  | { action: 'mask'; texts: string[]; reason: string }
  | { action: 'modify'; texts: string[]; reason: string };

export interface CheckContext {
  call: ModelCall;
  phase: GuardrailPhase;
  /** Placeholders of reversible PII masking of this call: placeholder → original text. */
  placeholders: Map<string, string>;
  signal: AbortSignal;
}

/** How a system prompt is applied: added when there is none, replacing all, or put before the existing one. */
export type SystemPromptMode = 'inject' | 'override' | 'decorator';

export interface Guardrail {
  name: string;
  type: string;
  order: number;
  phases: ReadonlySet<GuardrailPhase>;
  /** Checks (and may rewrite) text segments. */
  check?(segments: readonly TextSegment[], context: CheckContext): GuardrailDecision | Promise<GuardrailDecision>;
  /** A system prompt to apply to the request (system_prompt guardrails). */
  systemPrompt?: { mode: SystemPromptMode; content: string };
  /** Validates the whole answer text once it is complete (json_schema). */
  checkComplete?(text: string, context: CheckContext): GuardrailDecision | Promise<GuardrailDecision>;
}

/** One guardrail's decision as reported in the header and the audit record. */
export interface GuardrailEvent {
  name: string;
  type: string;
  phase: GuardrailPhase;
  action: 'block' | 'flag' | 'mask' | 'modify' | 'system_prompt';
  reason?: string;
}
