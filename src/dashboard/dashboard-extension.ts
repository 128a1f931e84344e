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

export function createDashboardExtension(options: DashboardRoutesOptions = {}): GatewayExtension {
  return (gateway) => {
    if (!gateway.config.dashboard.enabled) return;
    gateway.addRoutes(createDashboardRoutes(options));
  };
}
