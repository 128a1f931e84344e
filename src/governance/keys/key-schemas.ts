/** Request and response schemas of the managed-key admin API (zod; /openapi.json is generated from them). */
import { z } from 'zod';
import { limitSetSchema } from '../limits/rate-limit-config.ts';
import { keyScopes } from './managed-key.ts';

const ownerName = z.string().min(1).max(255);
const modelList = z.array(z.string().min(1).max(255)).max(1000);

const keyFields = {
  name: z.string().max(255).nullable().optional().describe('Label shown in lists'),
  scopes: z
    .array(z.enum(keyScopes))
    .min(1)
    .optional()
    .describe('inference (model calls), admin:read (admin GETs, /metrics), admin (whole admin API); default [inference]'),
  allowed_models: modelList.optional().describe('Models the key may call (exact, or a prefix ending in *); empty: all'),
  denied_models: modelList.optional().describe('Models the key may not call; wins over allowed_models'),
  user: ownerName.nullable().optional().describe('Owner user, for attribution, budgets and limits'),
  team: ownerName.nullable().optional().describe('Owner team, for attribution, budgets and limits'),
  tags: z.array(z.string().min(1).max(100)).max(50).optional(),
  rate_limits: limitSetSchema.optional().describe("The key's own rate limits; replace the configured per-key limits ({} removes them)"),
  expires_at: z.iso.datetime({ offset: true }).nullable().optional().describe('ISO 8601; null: never'),
  active: z.boolean().optional(),
};

export const createKeyRequest = z.strictObject(keyFields);
export const updateKeyRequest = z.strictObject(keyFields);

export const keyStatus = z.enum(['active', 'deactivated', 'expired', 'revoked']);

export const keyObject = z.object({
  object: z.literal('api_key'),
  id: z.string(),
  name: z.string().nullable(),
  key_hint: z.string().describe('mg-... and the last 4 characters of the secret'),
  status: keyStatus,
  scopes: z.array(z.enum(keyScopes)),
  allowed_models: z.array(z.string()),
  denied_models: z.array(z.string()),
  user: z.string().nullable(),
  team: z.string().nullable(),
  tags: z.array(z.string()),
  rate_limits: limitSetSchema,
  active: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
  expires_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  last_rotated_at: z.string().nullable(),
});

export const keyWithSecret = keyObject.extend({
  key: z.string().describe('The secret: shown only in this response, never again'),
});

export const keyList = z.object({ object: z.literal('list'), data: z.array(keyObject) });

export const keyDeleted = z.object({ object: z.literal('api_key.deleted'), id: z.string(), deleted: z.literal(true) });
