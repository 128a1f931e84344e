/**
 * Settings of the admin dashboard served at /admin/dashboard:
 * - ADMIN_UI_ENABLED (default true): false answers 404 on /admin/dashboard and its assets.
 */
import { ConfigError } from '../config/config-error.ts';

export interface DashboardConfig {
  enabled: boolean;
}

export function loadDashboardConfig(env: Record<string, string | undefined>): DashboardConfig {
  const value = env.ADMIN_UI_ENABLED?.trim().toLowerCase();
  if (value === undefined || value === '') return { enabled: true };
  if (['1', 'true', 'yes', 'on'].includes(value)) return { enabled: true };
  if (['0', 'false', 'no', 'off'].includes(value)) return { enabled: false };
  throw new ConfigError('ADMIN_UI_ENABLED', `expected true or false, got '${env.ADMIN_UI_ENABLED}'`);
}
