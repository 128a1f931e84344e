/**
 * The input of a batch, line by line (https://platform.openai.com/docs/guides/batch: each line
 * `{"custom_id","method":"POST","url","body"}`): every line's model goes through the gateway's aliases and model
 * access before the provider sees it. Lines are written to a spool file; when no line changed, the caller's
 * provider file is used as it is.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { GatewayError } from '../core/errors.ts';
import type { RoutingCatalog } from '../routing/routing-catalog.ts';
import { followAliases } from '../routing/stages/alias-stage.ts';

type Json = Record<string, unknown>;

/** OpenAI's per-batch limit (https://platform.openai.com/docs/api-reference/batch/create: up to 50,000 requests). */
export const maxBatchRequests = 50_000;

/**
 * A check applied to each line's body before it is spooled (input guardrails with
 * ENABLE_GUARDRAILS_FOR_BATCH_PROCESSING): the body to send instead, or null when unchanged; throws to refuse
 * the batch (the error names the line).
 */
export type BatchLineGuard = (line: { body: Json; url: string; index: number }) => Promise<Json | null>;

export interface LineRules {
  catalog: RoutingCatalog;
  /** Configured provider instance names (a `name/` prefix naming another provider is refused). */
  providerNames: Set<string>;
  /** The provider instance that runs the batch, and the most lines it takes in one batch. */
  target: { name: string; maxRequests: number };
  /** The calling key's model lists (managed keys), applied to each line's requested and resolved model. */
  keyAccess?: ((requested: string, target: { provider: string; model: string }) => Error | null) | undefined;
  endpoint: string;
  guard?: BatchLineGuard;
}

function lineError(index: number, message: string, code = 'invalid_batch_line', status = 400): GatewayError {
  return new GatewayError(`Batch line ${index}: ${message}`, { status, code, param: 'requests', retryable: false });
}

/** Checks one request line and rewrites its model; returns the line to send and whether it changed. */
export function prepareLine(raw: unknown, index: number, rules: LineRules): { line: Json; changed: boolean } {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw lineError(index, 'expected a JSON object');
  const line = raw as Json;
  if (typeof line.custom_id !== 'string' || line.custom_id === '') throw lineError(index, "'custom_id' must be a non-empty string");
  const body = line.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw lineError(index, "'body' must be a JSON object");
  const requested = (body as Json).model;
  if (typeof requested !== 'string' || requested === '') throw lineError(index, "'body.model' must be a non-empty string");
  let model = followAliases(rules.catalog, requested);
  const slash = model.indexOf('/');
  if (slash > 0 && rules.providerNames.has(model.slice(0, slash))) {
    const provider = model.slice(0, slash);
    if (provider !== rules.target.name) {
      throw lineError(
        index,
        `the model '${requested}' is served by '${provider}', but this batch runs at '${rules.target.name}' (one provider per batch)`,
      );
    }
    model = model.slice(slash + 1);
  }
  if (!rules.catalog.isEnabled(rules.target.name, model)) {
    throw lineError(index, `the model '${rules.target.name}/${model}' is disabled on this gateway`, 'model_disabled', 403);
  }
  const refusal = rules.keyAccess?.(requested, { provider: rules.target.name, model });
  if (refusal) throw lineError(index, refusal.message, 'model_not_allowed', 403);
  const url = line.url ?? rules.endpoint;
  const method = line.method ?? 'POST';
  const changed = model !== requested || line.url === undefined || line.method === undefined;
  return { line: { ...line, method, url, body: { ...(body as Json), model } }, changed };
}

export interface SpooledInput {
  path: string;
  bytes: number;
  changed: boolean;
  count: number;
  discard(): Promise<void>;
}

/** Writes the prepared lines to a spool file (bounded memory: one line at a time). */
export async function spoolLines(
  lines: AsyncIterable<unknown> | Iterable<unknown>,
  rules: LineRules,
  spoolDir: string,
): Promise<SpooledInput> {
  const path = join(spoolDir, `modelgate-batch-${randomUUID()}.jsonl`);
  const output = createWriteStream(path, { mode: 0o600 });
  // Write failures surface through `drain`/`finish`; a write still in flight when the file is abandoned is no crash.
  output.on('error', () => {});
  const discard = () => rm(path, { force: true }).catch(() => {});
  let changed = false;
  let count = 0;
  try {
    for await (const raw of lines) {
      count += 1;
      if (count > rules.target.maxRequests) {
        throw lineError(count, `a batch at '${rules.target.name}' holds at most ${rules.target.maxRequests} requests`);
      }
      const prepared = prepareLine(raw, count, rules);
      if (rules.guard) {
        const guarded = await rules.guard({ body: prepared.line.body as Json, url: String(prepared.line.url), index: count });
        if (guarded) {
          prepared.line = { ...prepared.line, body: guarded };
          prepared.changed = true;
        }
      }
      changed ||= prepared.changed;
      if (!output.write(`${JSON.stringify(prepared.line)}\n`)) await once(output, 'drain');
    }
    if (count === 0) throw lineError(0, 'the batch has no requests');
    output.end();
    await once(output, 'finish');
  } catch (error) {
    output.destroy();
    await discard();
    throw error;
  }
  return { path, bytes: (await stat(path)).size, changed, count, discard };
}

/** Parses JSONL text lines into objects (a line that is not JSON is refused with its number). */
export async function* parsedLines(lines: AsyncIterable<string>): AsyncGenerator<unknown> {
  let index = 0;
  for await (const text of lines) {
    index += 1;
    try {
      yield JSON.parse(text) as unknown;
    } catch {
      throw lineError(index, 'not valid JSON');
    }
  }
}
