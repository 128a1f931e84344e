/**
 * Vitest globalSetup: builds the dashboard (dist/dashboard) once before the tests when it is missing or
 * older than its sources, so that every test process, and a single test file run alone, serves the
 * current build (test/dashboard-*.test.ts; the gateway's /admin/dashboard).
 */
import { buildDashboard, dashboardIsStale } from '../../scripts/build-dashboard.ts';

export async function setup(): Promise<void> {
  if (dashboardIsStale()) await buildDashboard();
}
