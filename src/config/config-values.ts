/**
 * The value parsers of configuration (sizes, integers, booleans, lists, ${VAR} expansion): each names the
 * key it reads in its error, so a bad value fails at start with a message a user can act on.
 */
import { ConfigError } from './config-error.ts';

export type Env = Record<string, string | undefined>;

const sizeUnits: Record<string, number> = { b: 1, kb: 1024, k: 1024, mb: 1024 ** 2, m: 1024 ** 2, gb: 1024 ** 3, g: 1024 ** 3 };

export function parseSize(key: string, value: string | number): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value > 0) return value;
    throw new ConfigError(key, `expected a positive size, got ${value}`);
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = match?.[2]?.toLowerCase() ?? '';
  const multiplier = sizeUnits[unit === '' ? 'b' : unit];
  if (!match || multiplier === undefined) {
    throw new ConfigError(key, `expected a size such as 10485760, 512KB or 10MB, got '${value}'`);
  }
  const bytes = Math.floor(Number(match[1]) * multiplier);
  if (bytes <= 0) throw new ConfigError(key, `expected a positive size, got '${value}'`);
  return bytes;
}

export function parseInteger(key: string, value: string | number, min: number, max: number): number {
  const number = typeof value === 'number' ? value : Number(value.trim());
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new ConfigError(key, `expected an integer between ${min} and ${max}, got '${value}'`);
  }
  return number;
}

export function parseBoolean(key: string, value: string | boolean): boolean {
  if (typeof value === 'boolean') return value;
  const normalized = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(normalized)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(normalized)) return false;
  throw new ConfigError(key, `expected true or false, got '${value}'`);
}

export function parseList(value: string | string[]): string[] {
  const items = Array.isArray(value) ? value : value.split(',');
  return items.map((item) => item.trim()).filter((item) => item.length > 0);
}

/** Expands ${VAR} and ${VAR:-default} in every string of a parsed YAML document. */
export function expandVariables(value: unknown, env: Env): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_match, name: string, fallback?: string) => {
      const found = env[name];
      return found !== undefined && found !== '' ? found : (fallback ?? '');
    });
  }
  if (Array.isArray(value)) return value.map((item) => expandVariables(item, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, expandVariables(item, env)]));
  }
  return value;
}

/** Picks the first defined, non-empty value. */
export function pick<T>(...values: (T | undefined | '')[]): T | undefined {
  for (const value of values) if (value !== undefined && value !== '') return value as T;
  return undefined;
}
