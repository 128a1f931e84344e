/**
 * `npm run build:dashboard`: the admin dashboard (src/dashboard/web, Preact + uPlot) bundled by esbuild into
 * dist/dashboard/: index.html, app-<hash>.js, app-<hash>.css (content-hashed names, cached for good by the
 * gateway; index.html is revalidated). Everything is local: no CDN, no web font, no inline script or style
 * (the gateway's Content-Security-Policy forbids them).
 *
 * Usage: node scripts/build-dashboard.ts [--if-stale] [--outdir=dist/dashboard]
 *   --if-stale  build only when the output is missing or older than the sources (scripts/start.sh, tests)
 */
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const projectDirectory = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const dashboardSources = join(projectDirectory, 'src', 'dashboard', 'web');
export const defaultDashboardOutdir = join(projectDirectory, 'dist', 'dashboard');

function newestMtime(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Whether `outdir` lacks a build, or is older than the sources, this script or the installed packages. */
export function dashboardIsStale(outdir = defaultDashboardOutdir): boolean {
  let built: number;
  try {
    built = statSync(join(outdir, 'index.html')).mtimeMs;
  } catch {
    return true;
  }
  const inputs = [newestMtime(dashboardSources), statSync(fileURLToPath(import.meta.url)).mtimeMs, statSync(join(projectDirectory, 'package-lock.json')).mtimeMs];
  return inputs.some((mtime) => mtime > built);
}

const indexHtml = (script: string, style: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>Modelgate dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/admin/dashboard/${style}">
<script type="module" src="/admin/dashboard/${script}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The Modelgate dashboard needs JavaScript.</noscript>
</body>
</html>
`;

export interface DashboardBuild {
  outdir: string;
  files: string[];
  /** Size of the JS and CSS once gzipped (what the browser downloads). */
  gzipBytes: number;
}

export async function buildDashboard(outdir = defaultDashboardOutdir): Promise<DashboardBuild> {
  // Built beside the target, then swapped in, so a running gateway never serves half a build.
  const staging = `${outdir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const result = await build({
    entryPoints: { app: join(dashboardSources, 'main.tsx') },
    outdir: staging,
    entryNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
    // No `eval`, no inline anything: the page runs under script-src 'self'.
    supported: { 'dynamic-import': true },
  });
  const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
  const script = outputs.find((name) => name.endsWith('.js'));
  const style = outputs.find((name) => name.endsWith('.css'));
  if (!script || !style) throw new Error(`the dashboard build made no script or style: ${outputs.join(', ')}`);
  writeFileSync(join(staging, 'index.html'), indexHtml(script, style));
  mkdirSync(dirname(outdir), { recursive: true });
  const old = `${outdir}.old-${process.pid}`;
  rmSync(old, { recursive: true, force: true });
  try {
    renameSync(outdir, old);
  } catch {
    // no previous build
  }
  renameSync(staging, outdir);
  rmSync(old, { recursive: true, force: true });
  const files = readdirSync(outdir).sort();
  const gzipBytes = [script, style].reduce((total, name) => total + gzipSync(readFileSync(join(outdir, name))).length, 0);
  return { outdir, files, gzipBytes };
}

if (import.meta.main) {
  const outArgument = process.argv.slice(2).find((value) => value.startsWith('--outdir='));
  const outdir = outArgument ? resolve(outArgument.slice('--outdir='.length)) : defaultDashboardOutdir;
  if (process.argv.includes('--if-stale') && !dashboardIsStale(outdir)) process.exit(0);
  const startedAt = performance.now();
  const built = await buildDashboard(outdir);
  process.stdout.write(
    `built ${built.outdir} (${built.files.join(', ')}; ${(built.gzipBytes / 1024).toFixed(0)} KiB gzipped) in ${(performance.now() - startedAt).toFixed(0)} ms\n`,
  );
}
