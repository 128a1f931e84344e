/**
 * The one place where the order of the pipeline's stages is decided. Features register the stages
 * they switch on (by name); stages that are not registered are simply absent from the chain, so a
 * disabled feature costs nothing per call. `dispatch` is always last and calls the provider.
 *
 * Order, left to right (a call passes through each registered stage in this order):
 * - workflow: finds the workflow (scoped policy) that applies to the call and sets `trace.policy`, which
 *   the later stages and the recorders read (guardrails, cache, fallback, budget, usage, audit); first, so
 *   that every stage after it, and the records of a call refused early, follow it
 * - key-access: refuses models a managed key may not use (its allow and deny lists)
 * - guardrails-input: checks and rewrites the request before anything else sees it
 * - cache: answers from the response cache (exact, then semantic) or stores what passes
 * - alias: rewrites a model alias to its target
 * - fallback: tries an ordered list of models when one fails before content reached the client
 * - virtual-model: picks one target among several (weighted, priority, latency, cost, least busy)
 * - resolve: finds the provider serving `provider/model` or a bare model id
 * - model-access: refuses models switched off for a provider
 * - key-target-access: applies a managed key's model allow and deny lists to the target an alias, a
 *   virtual model or a fallback resolved to (key-access, first, can only see the name the client asked
 *   for); after resolution for that reason, before admission so a refused target counts against nothing
 * - rate-limit, budget: admission control per key, user, team, tag, model, provider and global. They sit
 *   after routing resolution because model and provider limits, and a budget's worst-case cost (the
 *   target model's price), need the target; being inside fallback and virtual-model, each target tried
 *   is admitted on its own (a model whose limits are full fails with a retryable 429, so fallback moves
 *   on), and being outside circuit-breaker and retry, a refusal never counts as an upstream failure
 *   and a retry of the same target is not admitted twice
 * - circuit-breaker: skips targets whose circuit is open
 * - retry: retries a target on retryable errors with backoff
 * - guardrails-output: checks and transforms the answer (also while it streams)
 * - dispatch (terminal): calls the provider with the body prepared for the target
 */
export const stageOrder = [
  'workflow',
  'key-access',
  'guardrails-input',
  'cache',
  'alias',
  'fallback',
  'virtual-model',
  'resolve',
  'model-access',
  'key-target-access',
  'rate-limit',
  'budget',
  'circuit-breaker',
  'retry',
  'guardrails-output',
] as const;

export type StageName = (typeof stageOrder)[number];

export function isStageName(name: string): name is StageName {
  return (stageOrder as readonly string[]).includes(name);
}

/**
 * The stages an opaque call (passthrough: the provider's own API, relayed as it is) runs, in the order above:
 * the workflow (its audit, usage and budget switches), key access (model allow/deny lists), rate limits and
 * budgets. The others read or rewrite the canonical body (guardrails, cache) or pick targets (routing, fallback,
 * retry), which an opaque call does not have.
 */
export const opaqueStages: ReadonlySet<StageName> = new Set<StageName>(['workflow', 'key-access', 'rate-limit', 'budget']);

/**
 * The stages an answer given without the upstream (a response cache hit) still passes, run by the cache
 * stage through `Pipeline.admit`: rate limits, so that a hit counts against the caller's request and token
 * windows like any call. Authentication and key-access ran before the cache already; budget is left out
 * (a hit costs nothing). The call has no target then, so model and provider limits, which guard the
 * upstream's quota, do not apply to hits.
 */
export const admissionStages: ReadonlySet<StageName> = new Set<StageName>(['rate-limit']);
