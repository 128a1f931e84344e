/**
 * Settings of the Files and Batches APIs (`/v1/files`, `/v1/batches`):
 * - FILES_MAX_UPLOAD_BYTES (default 512 MB, OpenAI's per-file limit:
 *   https://platform.openai.com/docs/api-reference/files/create) bounds one upload.
 * - FILES_SPOOL_DIR (default the system temp directory): where an upload is held on disk, never in memory,
 *   until it has been checked and is sent to the provider.
 * - BATCH_POLL_INTERVAL (seconds, default 60; 0 turns the poller off): how often unfinished batches are
 *   checked with their provider, recording usage once they complete.
 */
import { tmpdir } from 'node:os';
import { ConfigError } from '../config/config-error.ts';

export interface FilesConfig {
  maxUploadBytes: number;
  spoolDir: string;
  /** Milliseconds between two polls of unfinished batches; 0: no poller (usage is recorded at the first results fetch). */
  batchPollIntervalMs: number;
}

type Env = Record<string, string | undefined>;

function positiveInteger(key: string, value: string, minimum: number): number {
  const parsed = Number(value.trim());
  if (!Number.isInteger(parsed) || parsed < minimum)
    throw new ConfigError(key, `expected an integer of at least ${minimum}, got '${value}'`);
  return parsed;
}

/** Reads a duration in seconds: `60`, `60s`, `5m`, `1h`. */
function seconds(key: string, value: string): number {
  const match = /^\s*(\d+)\s*(s|m|h)?\s*$/.exec(value);
  if (!match) throw new ConfigError(key, `expected a duration such as 60, 60s, 5m or 1h, got '${value}'`);
  const factor = match[2] === 'h' ? 3600 : match[2] === 'm' ? 60 : 1;
  return Number(match[1]) * factor;
}

export function loadFilesConfig(env: Env): FilesConfig {
  const maxUpload = env.FILES_MAX_UPLOAD_BYTES;
  const poll = env.BATCH_POLL_INTERVAL;
  return {
    maxUploadBytes:
      maxUpload === undefined || maxUpload === '' ? 512 * 1024 * 1024 : positiveInteger('FILES_MAX_UPLOAD_BYTES', maxUpload, 1),
    spoolDir: env.FILES_SPOOL_DIR || tmpdir(),
    batchPollIntervalMs: (poll === undefined || poll === '' ? 60 : seconds('BATCH_POLL_INTERVAL', poll)) * 1000,
  };
}
