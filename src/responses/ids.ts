/** Identifiers shaped like OpenAI's (`resp_…`, `msg_…`, `fc_…`, `rs_…`). */
import { randomBytes } from 'node:crypto';

export function createItemId(prefix: 'resp' | 'msg' | 'fc' | 'ctc' | 'rs'): string {
  return `${prefix}_${randomBytes(24).toString('hex')}`;
}
