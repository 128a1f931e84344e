/**
 * Serves the admin dashboard (a single-page app built by scripts/build-dashboard.ts into dist/dashboard/):
 * `GET /admin/dashboard` and `GET /admin/dashboard/*`. Built assets are served by name; every other path
 * answers index.html, so the app's own routes (/admin/dashboard/logs, ...) survive a reload.
 *
 * The pages themselves are public (`authenticated: false`): the sign-in happens in the page, and every call
 * the page makes to /admin/api/v1 carries the key and is checked there as before. Nothing else is opened:
 * these routes only read files of the build directory, by a flat name (no separator, no `..`).
 *
 * Every answer carries a Content-Security-Policy that allows this origin only (no CDN, no inline script).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Route, TextReply } from '../http/types.ts';

export const dashboardPath = '/admin/dashboard';

export const dashboardContentSecurityPolicy =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const securityHeaders: Record<string, string> = {
  'content-security-policy': dashboardContentSecurityPolicy,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

/** A built asset's name: flat (no directory), no leading dot, one of the known extensions. */
const assetName = /^[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*\.(js|css|map|svg|txt|json)$/;
/** Names carrying a content hash (app-3F2A9C1B.js) never change: they may be cached for good. */
const hashedName = /-[A-Z0-9]{8,}\.[a-z]+$/;

/** Where the build is: beside the bundle (dist/dashboard) when bundled, else dist/dashboard of the project. */
export function defaultDashboardDirectory(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'dashboard'), join(here, '..', 'dashboard'), join(here, '..', '..', 'dist', 'dashboard')];
  for (const candidate of candidates) {
    try {
      if (statSync(join(candidate, 'index.html')).isFile()) return resolve(candidate);
    } catch {
      // not this one
    }
  }
  return resolve(here, '..', '..', 'dist', 'dashboard');
}

const notBuiltPage = (directory: string) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Modelgate dashboard not built</title></head>
<body>
<h1>The dashboard is not built</h1>
<p>Modelgate serves the admin dashboard from <code>${escapeHtml(directory)}</code>, which has no <code>index.html</code>.</p>
<p>Build it with <code>npm run build:dashboard</code> (or <code>node scripts/build-dashboard.ts</code>) and reload this page.
<code>./scripts/start.sh</code> and <code>npm run build</code> build it as well.
Set <code>ADMIN_UI_ENABLED=false</code> to turn the dashboard off.</p>
</body>
</html>
`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function page(status: number, contentType: string, body: string, cacheControl: string): TextReply {
  return { kind: 'text', status, contentType, headers: { ...securityHeaders, 'cache-control': cacheControl }, body };
}

export interface DashboardRoutesOptions {
  /** The build directory (default: defaultDashboardDirectory()). */
  directory?: string;
}

export function createDashboardRoutes(options: DashboardRoutesOptions = {}): Route[] {
  const directory = options.directory ?? defaultDashboardDirectory();
  const cache = new Map<string, { stamp: string; body: string }>();

  /** The file's text, read again when it changed on disk (a rebuild while the gateway runs). */
  const read = (name: string): string | undefined => {
    let stamp: string;
    try {
      const stats = statSync(join(directory, name));
      if (!stats.isFile()) return undefined;
      stamp = `${stats.mtimeMs}:${stats.size}`;
    } catch {
      return undefined;
    }
    const cached = cache.get(name);
    if (cached?.stamp === stamp) return cached.body;
    const body = readFileSync(join(directory, name), 'utf8');
    cache.set(name, { stamp, body });
    return body;
  };

  const index = (): TextReply => {
    const body = read('index.html');
    if (body === undefined) return page(503, 'text/html; charset=utf-8', notBuiltPage(directory), 'no-store');
    return page(200, 'text/html; charset=utf-8', body, 'no-cache');
  };

  const notFound = (): TextReply => page(404, 'text/plain; charset=utf-8', 'Not found\n', 'no-store');

  const serve = (rest: string): TextReply => {
    // Only flat names are ever looked up; a path with separators, dots or NUL cannot name a file here.
    if (rest.includes('\0') || rest.includes('\\') || rest.split('/').some((segment) => segment === '..' || segment === '.'))
      return notFound();
    const match = assetName.exec(rest);
    if (!match) return index();
    // The name must be one of the build's own files (not, say, a file another process drops there later).
    let listed: string[];
    try {
      listed = readdirSync(directory);
    } catch {
      return index();
    }
    if (!listed.includes(rest)) return notFound();
    const body = read(rest);
    if (body === undefined) return notFound();
    const extension = `.${match[1]}`;
    const cacheControl = hashedName.test(rest) ? 'public, max-age=31536000, immutable' : 'no-cache';
    return page(200, contentTypes[extension] ?? 'application/octet-stream', body, cacheControl);
  };

  return [
    { method: 'GET', path: dashboardPath, authenticated: false, handler: async () => index() },
    {
      method: 'GET',
      path: `${dashboardPath}/*`,
      authenticated: false,
      handler: async (request) => serve(request.params['*'] ?? ''),
    },
  ];
}
