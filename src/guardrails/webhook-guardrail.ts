/**
 * `webhook`: POSTs the text to a configured URL, which decides. Request body (JSON):
 *   {"guardrail","phase","request_id","endpoint","model","messages":[{"role","content"}]}
 * Answer (JSON, status 2xx): {"action":"allow"} | {"action":"deny","reason"?} |
 *   {"action":"flag","reason"?} | {"action":"modify","messages":[{"content"}...]} (one entry per message sent,
 *   in order). A timeout (`timeout_ms`), a connection error, a non-2xx status or an answer that is none of
 *   these is a failure: `fail_mode: open` lets the call through (recorded as a flag), `closed` blocks it.
 * The answer is read up to 1 MiB. Configured headers (an authorization token) are sent but never recorded.
 */
import { defaultAgent, undiciRequest } from '../providers/undici-request.ts';
import type { CheckContext, Guardrail, GuardrailDecision, GuardrailPhase, TextSegment } from './guardrail-types.ts';

const maxAnswerBytes = 1024 * 1024;

export interface WebhookGuardrailOptions {
  name: string;
  order: number;
  phases: ReadonlySet<GuardrailPhase>;
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  failMode: 'open' | 'closed';
}

async function readAnswer(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of body) {
    size += part.length;
    if (size > maxAnswerBytes) {
      body.destroy();
      throw new Error('answer too large');
    }
    parts.push(part);
  }
  return Buffer.concat(parts).toString('utf8');
}

function shortReason(value: unknown, fallback: string): string {
  return typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, 200) : fallback;
}

/** The webhook's answer as a decision, or null when it is not a valid answer. */
export function webhookDecision(answer: unknown, segments: readonly TextSegment[]): GuardrailDecision | null {
  if (!answer || typeof answer !== 'object') return null;
  const { action, reason, messages } = answer as Record<string, unknown>;
  if (action === 'allow') return { action: 'allow' };
  if (action === 'deny' || action === 'block') return { action: 'block', reason: shortReason(reason, 'denied by the webhook') };
  if (action === 'flag') return { action: 'flag', reason: shortReason(reason, 'flagged by the webhook') };
  if (action !== 'modify' || !Array.isArray(messages) || messages.length !== segments.length) return null;
  const texts: string[] = [];
  for (const message of messages) {
    const content = message && typeof message === 'object' ? (message as Record<string, unknown>).content : undefined;
    if (typeof content !== 'string') return null;
    texts.push(content);
  }
  return { action: 'modify', texts, reason: shortReason(reason, 'modified by the webhook') };
}

export function createWebhookGuardrail(options: WebhookGuardrailOptions): Guardrail {
  const failure = (why: string): GuardrailDecision =>
    options.failMode === 'open'
      ? { action: 'flag', reason: `${why}; allowed (fail_mode open)` }
      : { action: 'block', reason: `${why} (fail_mode closed)` };
  return {
    name: options.name,
    type: 'webhook',
    order: options.order,
    phases: options.phases,
    async check(segments: readonly TextSegment[], context: CheckContext): Promise<GuardrailDecision> {
      const payload = {
        guardrail: options.name,
        phase: context.phase,
        request_id: context.call.context.requestId,
        endpoint: context.call.endpoint,
        model: context.call.requestedModel,
        messages: segments.map((segment) => ({ role: segment.role, content: segment.text })),
      };
      const signal = AbortSignal.any([context.signal, AbortSignal.timeout(options.timeoutMs)]);
      let text: string;
      try {
        const response = await undiciRequest(defaultAgent(), options.url, {
          method: 'POST',
          headers: { ...options.headers, 'content-type': 'application/json' },
          body: JSON.stringify(payload),
          signal,
        });
        if (response.statusCode < 200 || response.statusCode >= 300) {
          await response.body.dump().catch(() => {});
          return failure(`the webhook answered ${response.statusCode}`);
        }
        text = await readAnswer(response.body);
      } catch {
        return failure(
          signal.aborted && !context.signal.aborted
            ? `the webhook did not answer within ${options.timeoutMs} ms`
            : 'the webhook could not be reached',
        );
      }
      let answer: unknown;
      try {
        answer = JSON.parse(text);
      } catch {
        return failure('the webhook answer is not JSON');
      }
      return webhookDecision(answer, segments) ?? failure('the webhook answer is not allow, deny, flag or modify');
    },
  };
}
