/** The error of a blocked call: 400 `guardrail_blocked`, naming the guardrail in the message and the header. */
import { GatewayError } from '../core/errors.ts';

export const guardrailsHeader = 'x-modelgate-guardrails';

export function guardrailBlocked(name: string, reason: string, phase: 'input' | 'output'): GatewayError {
  const what = phase === 'input' ? 'Request' : 'Response';
  return new GatewayError(`${what} blocked by guardrail '${name}': ${reason}`, {
    status: 400,
    code: 'guardrail_blocked',
    type: 'invalid_request_error',
    retryable: false,
    headers: { [guardrailsHeader]: `${name}:block` },
  });
}
