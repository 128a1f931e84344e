/**
 * Serves the admin dashboard at /admin/dashboard (src/dashboard/dashboard-routes.ts) unless
 * ADMIN_UI_ENABLED=false, in which case no route is registered and the paths answer 404.
 */
import { z } from 'zod';
import type { GatewayExtension } from '../app.ts';
import { documentOperations } from '../admin/openapi-registry.ts';
import { createDashboardRoutes, type DashboardRoutesOptions, dashboardPath } from './dashboard-routes.ts';

documentOperations({
  method: 'get',
  path: dashboardPath,
  tag: 'Dashboard',
  summary: 'Admin dashboard (single-page app; public page, the sign-in happens in it; ADMIN_UI_ENABLED)',
  response: z.string(),
  responseType: 'text/html',
  errors: [404, 503],
});
documentOperations({
  method: 'get',
  path: `${dashboardPath}/{path}`,
  tag: 'Dashboard',
  summary: "The dashboard's built assets by name; any other path answers the page (the app's own routes)",
  parameters: [{ name: 'path', in: 'path', description: 'An asset of the build (app-<hash>.js) or a page of the app (logs, keys, ...)' }],
  response: z.string(),
  responseType: 'text/html',
  errors: [404, 503],
});

export function createDashboardExtension(options: DashboardRoutesOptions = {}): GatewayExtension {
  return (gateway) => {
    if (!gateway.config.dashboard.enabled) return;
    gateway.addRoutes(createDashboardRoutes(options));
  };
}
