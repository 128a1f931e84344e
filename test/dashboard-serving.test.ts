/**
 * Serving of the admin dashboard (src/dashboard/dashboard-routes.ts) by a real gateway: public pages with
 * a strict Content-Security-Policy while the admin API stays locked, client-side routes answered with
 * index.html, assets by name only (no path traversal), ADMIN_UI_ENABLED=false, a 503 page when the build
 * is missing, and the bundle's size (at most 300 KB gzipped, the limit).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDashboardOutdir } from '../scripts/build-dashboard.ts';
import { ConfigError } from '../src/config/config-error.ts';
import { loadDashboardConfig } from '../src/dashboard/dashboard-config.ts';
import { createDashboardRoutes, dashboardContentSecurityPolicy } from '../src/dashboard/dashboard-routes.ts';
import type { GatewayRequest, TextReply } from '../src/http/types.ts';
import { createBackend, type StorageBackend } from './helpers/storage-backends.ts';
import { type RunningGateway, startGateway } from './helpers/start-gateway.ts';

const masterKey = 'mg-master-dashboard-serving-1f2e';
const expectedCsp =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** A GET with the path sent exactly as written (fetch would normalise `..` away before it leaves). */
function rawGet(
  base: string,
  path: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: url.hostname, port: url.port, path, method: 'GET' }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

function builtAssets(): { script: string; style: string } {
  const html = readFileSync(join(defaultDashboardOutdir, 'index.html'), 'utf8');
  const script = /src="\/admin\/dashboard\/([^"]+\.js)"/.exec(html)?.[1];
  const style = /href="\/admin\/dashboard\/([^"]+\.css)"/.exec(html)?.[1];
  if (!script || !style) throw new Error(`index.html names no script or style: ${html}`);
  return { script, style };
}

describe('dashboard serving', () => {
  let backend: StorageBackend;
  let running: RunningGateway;

  beforeAll(async () => {
    backend = createBackend('sqlite');
    running = await startGateway({ ...backend.env, MODELGATE_MASTER_KEY: masterKey });
  });

  afterAll(async () => {
    await running?.close();
    await backend?.cleanup();
  });

  it('serves the page without a key, with the security headers, while the admin API still needs the key', async () => {
    expect(dashboardContentSecurityPolicy).toBe(expectedCsp);
    for (const path of ['/admin/dashboard', '/admin/dashboard/', '/admin/dashboard/logs', '/admin/dashboard/keys/some/deep/route']) {
      const response = await fetch(`${running.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toBe(expectedCsp);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      const html = await response.text();
      expect(html).toContain('<div id="app"></div>');
      // Nothing inline and nothing from elsewhere: every script and style is a file of this origin.
      expect(html).not.toMatch(/<script>(?!<\/script>)|<style|style="|https?:\/\//);
    }
    expect((await fetch(`${running.url}/admin/api/v1/usage/summary`)).status).toBe(401);
    expect((await fetch(`${running.url}/admin/api/v1/keys`)).status).toBe(401);
    expect((await fetch(`${running.url}/admin/api/v1/usage/summary`, { headers: { authorization: `Bearer ${masterKey}` } })).status).toBe(
      200,
    );
  });

  it('serves the built assets by name, cached for good since their names carry a hash', async () => {
    const { script, style } = builtAssets();
    const js = await fetch(`${running.url}/admin/dashboard/${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await js.text()).toBe(readFileSync(join(defaultDashboardOutdir, script), 'utf8'));
    const css = await fetch(`${running.url}/admin/dashboard/${style}`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    // An asset name that is not in the build is a 404, not the page (a stale page asking for an old hash).
    const missing = await fetch(`${running.url}/admin/dashboard/app-OLDHASH1.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-security-policy')).toBe(expectedCsp);
  });

  it('never serves a file outside the build, however the path is written', async () => {
    const packageJson = readFileSync('package.json', 'utf8');
    const attempts = [
      '/admin/dashboard/../../package.json',
      '/admin/dashboard/..%2f..%2fpackage.json',
      '/admin/dashboard/%2e%2e/%2e%2e/package.json',
      '/admin/dashboard/%2e%2e%2f%2e%2e%2fpackage.json',
      '/admin/dashboard/..\\..\\package.json',
      '/admin/dashboard/..%5c..%5cpackage.json',
      '/admin/dashboard/%2fetc%2fpasswd',
      '/admin/dashboard//etc/passwd',
      '/admin/dashboard/index.html%00.js',
      '/admin/dashboard/.hidden.js',
      '/admin/dashboard/....//....//package.json',
    ];
    for (const path of attempts) {
      const answer = await rawGet(running.url, path);
      expect(answer.status, path).not.toBe(500);
      expect(answer.body, path).not.toContain('"devDependencies"');
      expect(answer.body, path).not.toContain('root:x:0:0');
      expect(answer.body).not.toBe(packageJson);
      if (answer.status === 200) expect(answer.headers['content-type'], path).toBe('text/html; charset=utf-8');
    }
  });

  it('ADMIN_UI_ENABLED=false answers 404 on the dashboard and leaves the admin API as it was', async () => {
    const off = createBackend('sqlite');
    const gateway = await startGateway({ ...off.env, MODELGATE_MASTER_KEY: masterKey, ADMIN_UI_ENABLED: 'false' });
    try {
      for (const path of ['/admin/dashboard', '/admin/dashboard/logs', `/admin/dashboard/${builtAssets().script}`]) {
        expect((await fetch(`${gateway.url}${path}`)).status, path).toBe(404);
      }
      expect((await fetch(`${gateway.url}/admin/api/v1/usage/summary`, { headers: { authorization: `Bearer ${masterKey}` } })).status).toBe(
        200,
      );
    } finally {
      await gateway.close();
      await off.cleanup();
    }
    expect(loadDashboardConfig({}).enabled).toBe(true);
    expect(loadDashboardConfig({ ADMIN_UI_ENABLED: 'true' }).enabled).toBe(true);
    expect(loadDashboardConfig({ ADMIN_UI_ENABLED: '0' }).enabled).toBe(false);
    expect(() => loadDashboardConfig({ ADMIN_UI_ENABLED: 'maybe' })).toThrow(ConfigError);
    expect(() => loadDashboardConfig({ ADMIN_UI_ENABLED: 'maybe' })).toThrow(/ADMIN_UI_ENABLED/);
  });

  it('answers a 503 page that says how to build the dashboard when the build is missing', async () => {
    const [page, assets] = createDashboardRoutes({ directory: join(backend.spillDir, 'no-such-build') });
    const requestFor = (rest: string | null) =>
      ({
        method: 'GET',
        path: '/admin/dashboard',
        headers: {},
        query: {},
        params: rest === null ? {} : { '*': rest },
        keyId: null,
      }) as unknown as GatewayRequest;
    for (const [route, rest] of [
      [page, null],
      [assets, 'usage'],
    ] as const) {
      const reply = (await route?.handler(requestFor(rest))) as TextReply;
      expect(reply.status).toBe(503);
      expect(reply.contentType).toBe('text/html; charset=utf-8');
      expect(reply.body).toContain('npm run build:dashboard');
      expect(reply.headers?.['content-security-policy']).toBe(expectedCsp);
      expect(reply.headers?.['cache-control']).toBe('no-store');
    }
  });

  it('keeps the bundle under 300 KB gzipped, every asset local', () => {
    const files = readdirSync(defaultDashboardOutdir);
    expect(files).toContain('index.html');
    const assets = files.filter((name) => /\.(js|css)$/.test(name));
    expect(assets.length).toBeGreaterThanOrEqual(2);
    const gzipped = assets.reduce((total, name) => total + gzipSync(readFileSync(join(defaultDashboardOutdir, name))).length, 0);
    expect(gzipped).toBeLessThanOrEqual(300 * 1000);
    for (const name of assets) {
      const text = readFileSync(join(defaultDashboardOutdir, name), 'utf8');
      // No stylesheet or font pulled from another origin, no web font at all.
      expect(text, name).not.toMatch(/@import\s+url\(\s*["']?https?:|@font-face/);
    }
  });
});
