/**
 * A pipeline stage: one concern (cache, limits, routing, retry...) in one file. It may answer
 * without calling `next`, call `next` several times, or wrap the result it gets back.
 */
import type { ProviderResult } from '../providers/types.ts';
import type { ModelCall } from './model-call.ts';

export type Next = (call: ModelCall) => Promise<ProviderResult>;

export interface Stage {
  /** One of the names in stage-order.ts: the order is fixed there, not by registration. */
  name: string;
  handle(call: ModelCall, next: Next): Promise<ProviderResult>;
}
