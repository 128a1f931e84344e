/**
 * `npm run build`: the production bundle. Two files in dist/:
 * - modelgate-bundle.cjs: every source file and pure-JS dependency in one CommonJS file, so the process starts
 *   without type-stripping ~150 files or resolving hundreds of modules. Left outside (loaded from node_modules at
 *   run time): native addons (better-sqlite3, sqlite-vec), packages that read their own files (swagger-ui-dist)
 *   or load optional natives (pg's pg-native), and the Redis client (loaded only when REDIS_URL is set). What a
 *   feature loads only when configured stays out of the start-up path: a dynamic import() of a bundled module
 *   becomes a lazily run wrapper, one of an external package a require() at that point. Data files imported
 *   with `with { type: 'json' }` are inlined. The TLS and HTTP/2 modules that dependencies require for features
 *   not used by default load at first use (lazy-builtins-plugin.ts). Minified, names kept (error types in logs).
 * - modelgate.mjs: the entry (src/bundle-entry/entry.ts), which runs the bundle with a V8 code cache taken after
 *   the start (src/bundle-entry/code-cache-loader.ts). The bundle's content hash is written into it, and names
 *   the cache file.
 * CommonJS rather than an ES module because only a classic script can hand V8's code cache back after it ran
 * (`vm.Script#createCachedData`); `import.meta.url` is defined from `__filename`.
 *
 * The admin dashboard (scripts/build-dashboard.ts) is built beside it, into <outdir>/dashboard, where the bundle's
 * /admin/dashboard finds it.
 *
 * Usage: node scripts/build.ts [--outfile=dist/modelgate.mjs]
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildDashboard } from './build-dashboard.ts';
import { lazyBuiltinsPlugin } from './lazy-builtins-plugin.ts';

const projectDirectory = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Packages the bundle loads from node_modules instead of containing them. */
export const externalPackages = ['better-sqlite3', 'sqlite-vec', 'swagger-ui-dist', 'pg', 'pg-native', 'redis', '@redis/*'];

/** The bundle's file name beside the entry (written into the entry too). */
const bundleFileName = 'modelgate-bundle.cjs';

/** Writes `outfile` (the entry) and the bundle beside it; returns the entry, the bundle's size and its hash. */
export async function buildBundle(
  outfile = join(projectDirectory, 'dist', 'modelgate.mjs'),
): Promise<{ outfile: string; bytes: number; hash: string }> {
  const outdir = dirname(outfile);
  const bundleFile = join(outdir, bundleFileName);
  // What earlier builds (an ES module split into chunks) left behind.
  rmSync(join(outdir, 'chunks'), { recursive: true, force: true });
  for (const old of ['modelgate-bundle.mjs', 'modelgate-bundle.mjs.map', 'modelgate-bundle.mjs.LEGAL.txt']) rmSync(join(outdir, old), { force: true });
  await build({
    entryPoints: [join(projectDirectory, 'src', 'main.ts')],
    outfile: bundleFile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    external: externalPackages,
    minify: true,
    keepNames: true,
    legalComments: 'linked',
    sourcemap: 'linked',
    logLevel: 'warning',
    plugins: [lazyBuiltinsPlugin()],
    define: { 'import.meta.url': '__modelgateImportMetaUrl' },
    banner: { js: "const __modelgateImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
  const hash = createHash('sha256').update(readFileSync(bundleFile)).digest('hex').slice(0, 16);
  await build({
    entryPoints: [join(projectDirectory, 'src', 'bundle-entry', 'entry.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    logLevel: 'warning',
    define: { MODELGATE_BUNDLE_FILE: JSON.stringify(`./${bundleFileName}`), MODELGATE_BUNDLE_HASH: JSON.stringify(hash) },
    banner: { js: "// Modelgate's production entry, written by scripts/build.ts from src/bundle-entry/entry.ts." },
  });
  await buildDashboard(join(outdir, 'dashboard'));
  return { outfile, bytes: statSync(bundleFile).size, hash };
}

if (import.meta.main) {
  const argument = process.argv.slice(2).find((value) => value.startsWith('--outfile='));
  const startedAt = performance.now();
  const { outfile, bytes } = await buildBundle(argument ? resolve(argument.slice('--outfile='.length)) : undefined);
  process.stdout.write(`built ${outfile} (${(bytes / 1024).toFixed(0)} KiB) in ${(performance.now() - startedAt).toFixed(0)} ms\n`);
}
