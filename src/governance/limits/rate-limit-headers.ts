/**
 * Rate-limit response headers as OpenAI sends them
 * (https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers): `x-ratelimit-limit-requests`,
 * `x-ratelimit-remaining-requests`, `x-ratelimit-reset-requests` and the `-tokens` equivalents, the reset
 * as a duration (`1s`, `6m0s`, `20ms`). With several windows of a kind, the one with the least room left.
 */
import type { WindowState } from '../../state/shared-state.ts';

/** A duration in Go's `time.Duration` notation, as OpenAI's reset headers use it. */
export function formatResetDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const totalSeconds = Math.round(ms) / 1000;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = Math.round((totalSeconds % 60) * 1000) / 1000;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

function tightest(windows: WindowState[], from: number, to: number): WindowState | undefined {
  let best: WindowState | undefined;
  for (let index = from; index < to; index++) {
    const window = windows[index];
    if (window && (!best || window.remaining < best.remaining)) best = window;
  }
  return best;
}

/** The headers of one kind, from `windows[from]` up to (not including) `windows[to]` (default: all of them). */
export function setRateLimitHeaders(
  headers: Record<string, string>,
  kind: 'requests' | 'tokens',
  windows: WindowState[],
  from = 0,
  to = windows.length,
): void {
  const window = tightest(windows, from, to);
  if (!window) return;
  headers[`x-ratelimit-limit-${kind}`] = String(window.limit);
  headers[`x-ratelimit-remaining-${kind}`] = String(window.remaining);
  headers[`x-ratelimit-reset-${kind}`] = formatResetDuration(window.resetMs);
}
