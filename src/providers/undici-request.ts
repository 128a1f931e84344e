/**
 * undici's Agent and its `request` API, loaded without undici's index. The index also loads fetch, WebSocket,
 * EventSource, the mock agents, the cache stores and every interceptor, none of which Modelgate uses: in the
 * production bundle that was about 30 ms of start-up and 3 MB of heap (measured 2026-12-04, docs/benchmarks.md,
 * "Start-up and idle memory"). The two files loaded here are the ones the index itself exports as `Agent` and
 * `request`, and `undiciRequest` does what the index's `request(url, { dispatcher })` wrapper does: split the URL
 * into origin and path (through `new URL`, so the path is normalised and percent-encoded as before) and call
 * the request API on the dispatcher. The undici version is pinned by package-lock.json; undici ships no
 * `exports` map, so these paths are part of its published package.
 */
import type { Agent as AgentType, Dispatcher } from 'undici';
import requestApi from 'undici/lib/api/api-request.js';
import AgentConstructor from 'undici/lib/dispatcher/agent.js';

export const Agent: typeof AgentType = AgentConstructor;

export type UndiciRequestOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path'>;

/** `request(url, options)` on `dispatcher`, as undici's own `request(url, { ...options, dispatcher })`. */
export function undiciRequest(dispatcher: Dispatcher, url: string, options: UndiciRequestOptions): Promise<Dispatcher.ResponseData> {
  const target = new URL(url);
  return requestApi.call(dispatcher, {
    ...options,
    origin: target.origin,
    path: target.search ? `${target.pathname}${target.search}` : target.pathname,
  });
}

let sharedAgent: AgentType | undefined;

/** One Agent with undici's defaults, created at first use, for calls that have no client of their own (guardrail webhooks). */
export function defaultAgent(): AgentType {
  sharedAgent ??= new Agent();
  return sharedAgent;
}
