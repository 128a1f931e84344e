/**
 * Output-token limits per model, shipped beside the prices (model-limits.json, a source per provider).
 * Clients written for one model family send what suits it: Claude Code asks for 32,000-128,000 output
 * tokens, which gpt-4o-mini (16,384) refuses with 400. A request above a known limit is clamped to it.
 */
// Imported, not read from disk, so that the production bundle (scripts/build.ts) carries it inside.
import limitsData from './model-limits.json' with { type: 'json' };
import { candidateNames } from './pricing.ts';

interface LimitsFile {
  models: Record<string, { max_output_tokens: number }>;
}

let shipped: Map<string, number> | undefined;
const resolved = new Map<string, number | null>();

function shippedLimits(): Map<string, number> {
  if (shipped) return shipped;
  const file = limitsData as unknown as LimitsFile;
  shipped = new Map(Object.entries(file.models).map(([model, entry]) => [model, entry.max_output_tokens]));
  return shipped;
}

/** The most output tokens `model` accepts, or null when unknown (`vendor/` prefixes and date suffixes are ignored). */
export function maxOutputTokensOf(model: string): number | null {
  let limit = resolved.get(model);
  if (limit === undefined) {
    const limits = shippedLimits();
    limit = candidateNames(model).map((name) => limits.get(name)).find((found) => found !== undefined) ?? null;
    if (resolved.size < 10_000) resolved.set(model, limit);
  }
  return limit;
}

/**
 * Lowers `max_tokens` / `max_completion_tokens` of an OpenAI-shaped chat body to the model's known limit,
 * in place, and reports it as `<field> (clamped to N)` (`sources` names the client's field).
 */
export function clampMaxTokens(chat: Record<string, unknown>, model: string, report: string[], sources: Record<string, string> = {}): void {
  for (const field of ['max_tokens', 'max_completion_tokens']) {
    const value = chat[field];
    if (typeof value !== 'number') continue;
    const limit = maxOutputTokensOf(model);
    if (limit === null || value <= limit) continue;
    chat[field] = limit;
    report.push(`${sources[field] ?? field} (clamped to ${limit})`);
  }
}
