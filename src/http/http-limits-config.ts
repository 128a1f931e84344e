/**
 * Limits on what clients send (docs/hardening.md): `REQUEST_TIMEOUT_MS` (deadline for a request's headers
 * and body, default 5 min: uploads through the Files API; headers alone get at most 30 s), `MAX_CONNECTIONS` (open client connections, default 8,000: below a 20,000 file
 * descriptor limit with room for an upstream socket per stream and for files and databases) and
 * `MAX_JSON_DEPTH` (nesting of a JSON body, default 64).
 */
import { ConfigError } from '../config/config-error.ts';

export interface HttpLimitsConfig {
  requestTimeoutMs: number;
  maxConnections: number;
  maxJsonDepth: number;
}

export const defaultHttpLimits: HttpLimitsConfig = { requestTimeoutMs: 300_000, maxConnections: 8_000, maxJsonDepth: 64 };

function integer(env: Record<string, string | undefined>, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw.trim());
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(key, `expected an integer between ${min} and ${max}, got '${raw}'`);
  }
  return value;
}

export function loadHttpLimitsConfig(env: Record<string, string | undefined>): HttpLimitsConfig {
  return {
    requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', defaultHttpLimits.requestTimeoutMs, 100, 3_600_000),
    maxConnections: integer(env, 'MAX_CONNECTIONS', defaultHttpLimits.maxConnections, 1, 1_000_000),
    maxJsonDepth: integer(env, 'MAX_JSON_DEPTH', defaultHttpLimits.maxJsonDepth, 1, 100_000),
  };
}
