/**
 * A pino destination that passes every log line through the secret scrubber before it is written, so
 * no field of any log record (messages, serialised errors with their causes and stacks, reasons) can
 * carry a secret out. Log lines are few (start, failures, warnings; none per successful call), so the
 * scan costs nothing that matters.
 */
import type { DestinationStream } from 'pino';
import type { SecretScrubber } from './secret-scrubber.ts';

export function createScrubbingDestination(scrubber: SecretScrubber, target: DestinationStream): DestinationStream {
  return {
    write(line: string) {
      target.write(scrubber.scrub(line));
    },
  };
}
