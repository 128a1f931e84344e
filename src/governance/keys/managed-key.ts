/** A managed gateway key as the gateway works with it, and how secrets are made and recognised. */
import { hash, randomBytes } from 'node:crypto';
import { type LimitSet, limitSetFromYaml, limitSetToYaml } from '../limits/rate-limit-config.ts';
import type { ManagedKeyTable } from './managed-key-table.ts';

export const keyScopes = ['inference', 'admin', 'admin:read'] as const;
export type KeyScope = (typeof keyScopes)[number];

export interface ManagedKey {
  id: string;
  name: string | null;
  secretHash: string;
  secretSuffix: string;
  scopes: KeyScope[];
  allowedModels: string[];
  deniedModels: string[];
  user: string | null;
  team: string | null;
  tags: string[];
  /** The key's own rate limits; when not empty they replace the per-key defaults of the configuration. */
  rateLimits: LimitSet;
  active: boolean;
  createdAt: number;
  updatedAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastRotatedAt: number | null;
}

/** `mg-` then 32 random bytes as base64url (43 characters). */
export const managedKeyPrefix = 'mg-';
const secretPattern = /^mg-[A-Za-z0-9_-]{43,}$/;

export function generateSecret(): string {
  return `${managedKeyPrefix}${randomBytes(32).toString('base64url')}`;
}

export function looksLikeManagedKey(value: string): boolean {
  return secretPattern.test(value);
}

export function hashSecret(secret: string): string {
  // One-shot hash, as for the master key: cheaper per call than createHash().update().digest().
  return hash('sha256', secret, 'hex');
}

export function secretSuffix(secret: string): string {
  return secret.slice(-4);
}

export function generateKeyId(): string {
  return `key_${randomBytes(12).toString('hex')}`;
}

function parseList(text: string): string[] {
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

function parseLimits(text: string | null | undefined): LimitSet {
  if (!text) return {};
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' ? limitSetFromYaml(value as Record<string, number>) : {};
  } catch {
    return {};
  }
}

const nullableNumber = (value: number | string | null): number | null => (value === null ? null : Number(value));

export function keyFromRow(row: ManagedKeyTable): ManagedKey {
  return {
    id: row.id,
    name: row.name,
    secretHash: row.secret_hash,
    secretSuffix: row.secret_suffix,
    scopes: parseList(row.scopes).filter((scope): scope is KeyScope => (keyScopes as readonly string[]).includes(scope)),
    allowedModels: parseList(row.allowed_models),
    deniedModels: parseList(row.denied_models),
    user: row.owner_user,
    team: row.owner_team,
    tags: parseList(row.tags),
    rateLimits: parseLimits(row.rate_limits),
    active: Number(row.active) === 1,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    expiresAt: nullableNumber(row.expires_at),
    revokedAt: nullableNumber(row.revoked_at),
    lastRotatedAt: nullableNumber(row.last_rotated_at),
  };
}

export function rowFromKey(key: ManagedKey): ManagedKeyTable {
  return {
    id: key.id,
    name: key.name,
    secret_hash: key.secretHash,
    secret_suffix: key.secretSuffix,
    scopes: JSON.stringify(key.scopes),
    allowed_models: JSON.stringify(key.allowedModels),
    denied_models: JSON.stringify(key.deniedModels),
    owner_user: key.user,
    owner_team: key.team,
    tags: JSON.stringify(key.tags),
    rate_limits: Object.keys(key.rateLimits).length === 0 ? null : JSON.stringify(limitSetToYaml(key.rateLimits)),
    active: key.active ? 1 : 0,
    created_at: key.createdAt,
    updated_at: key.updatedAt,
    expires_at: key.expiresAt,
    revoked_at: key.revokedAt,
    last_rotated_at: key.lastRotatedAt,
  };
}

/** Why a key that matched cannot be used now, or null when it can. */
export function keyRefusal(key: ManagedKey, now: number): string | null {
  if (key.revokedAt !== null) return 'revoked';
  if (!key.active) return 'deactivated';
  if (key.expiresAt !== null && key.expiresAt <= now) return 'expired';
  return null;
}

/** A model pattern: an exact name, or a prefix ending in `*` (`openai/*`, `gpt-4o*`). */
function matches(pattern: string, model: string): boolean {
  return pattern.endsWith('*') ? model.startsWith(pattern.slice(0, -1)) : pattern === model;
}

/** Whether the key may call `model` (as requested, or as sent upstream). Deny wins over allow. */
export function keyAllowsModel(key: ManagedKey, model: string): boolean {
  if (key.deniedModels.some((pattern) => matches(pattern, model))) return false;
  return key.allowedModels.length === 0 || key.allowedModels.some((pattern) => matches(pattern, model));
}
