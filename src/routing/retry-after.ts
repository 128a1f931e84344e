/**
 * How long an upstream asks us to wait, from the headers of its error response:
 * - `retry-after-ms` (milliseconds; sent by OpenAI and Azure OpenAI, read by the official SDKs:
 *   https://github.com/openai/openai-node `retry-after-ms` handling in src/client.ts),
 * - `Retry-After` (seconds or an HTTP date, RFC 9110 section 10.2.3),
 * - `x-ratelimit-reset-requests` / `x-ratelimit-reset-tokens` (durations such as `1s`, `6m0s`, `20ms`:
 *   https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers), for the limits whose
 *   `x-ratelimit-remaining-*` is 0 (or all of them when the upstream does not say which).
 * Returns milliseconds, or undefined when the upstream said nothing usable.
 */
const resetUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseResetDuration(value: string): number | undefined {
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    total += Number(match[1]) * (resetUnits[match[2] as string] as number);
    consumed = pattern.lastIndex;
  }
  return consumed === text.length && consumed > 0 ? total : undefined;
}

export function retryAfterMs(headers: Record<string, string>, nowEpochMs: number = Date.now()): number | undefined {
  const milliseconds = headers['retry-after-ms'];
  if (milliseconds !== undefined) {
    const value = Number(milliseconds);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const retryAfter = headers['retry-after'];
  if (retryAfter !== undefined) {
    const trimmed = retryAfter.trim();
    if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
    const date = Date.parse(trimmed);
    if (Number.isFinite(date)) return Math.max(0, date - nowEpochMs);
  }
  let reset: number | undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-ratelimit-reset')) continue;
    const remaining = headers[`x-ratelimit-remaining${name.slice('x-ratelimit-reset'.length)}`];
    if (remaining !== undefined && remaining.trim() !== '0') continue;
    const parsed = parseResetDuration(value);
    // The request is refused until every exhausted limit resets: wait for the longest one.
    if (parsed !== undefined) reset = Math.max(reset ?? 0, parsed);
  }
  return reset;
}
