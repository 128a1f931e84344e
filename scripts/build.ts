/**
 * `npm run build`: the production bundle, dist/modelgate.mjs — every source file and pure-JS dependency in
 * one ES module, so the process starts without type-stripping ~150 files or resolving hundreds of modules.
 * Left outside (loaded from node_modules at run time): native addons (better-sqlite3, sqlite-vec), packages
 * that read their own files (swagger-ui-dist) or load optional natives (pg's pg-native), and the Redis client
 * (loaded only when REDIS_URL is set). Data files imported with `with { type: 'json' }` are inlined. The TLS and
 * HTTP/2 modules that dependencies require for features not used by default load at first use
 * (lazy-builtins-plugin.ts).
 * The bundle is minified (names kept, for error types in logs) and loaded by a small entry, dist/modelgate.mjs,
 * that first turns on V8's compile cache (Node >= 22.1; directory NODE_COMPILE_CACHE, default in the OS temp
 * directory): from the second start on, the bundle is not compiled again.
 *
 * The admin dashboard (scripts/build-dashboard.ts) is built beside it, into <outdir>/dashboard, where the bundle's
 * /admin/dashboard finds it.
 *
 * Usage: node scripts/build.ts [--outfile=dist/modelgate.mjs]
 */
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { buildDashboard } from './build-dashboard.ts';
import { lazyBuiltinsPlugin } from './lazy-builtins-plugin.ts';

const projectDirectory = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Packages the bundle loads from node_modules instead of containing them. */
export const externalPackages = ['better-sqlite3', 'sqlite-vec', 'swagger-ui-dist', 'pg', 'pg-native', 'redis', '@redis/*'];

const entrySource = `// Modelgate's production entry (written by scripts/build.ts): V8's compile cache, then the bundle.
import * as nodeModule from 'node:module';
try {
  nodeModule.enableCompileCache?.();
} catch {
  // no cache (read-only directory, old Node): the bundle is compiled as usual
}
await import('./modelgate-bundle.mjs');
`;

/** Writes `outfile` (the entry) and modelgate-bundle.mjs beside it; returns the entry and the bundle's size. */
export async function buildBundle(outfile = join(projectDirectory, 'dist', 'modelgate.mjs')): Promise<{ outfile: string; bytes: number }> {
  const bundleFile = join(dirname(outfile), 'modelgate-bundle.mjs');
  // Chunk names carry a content hash: clear the previous build's, so that only this build's files remain.
  rmSync(join(dirname(outfile), 'chunks'), { recursive: true, force: true });
  await build({
    entryPoints: [join(projectDirectory, 'src', 'main.ts')],
    // Split at dynamic imports: what a feature loads only when configured (the Redis client, pg) stays out of
    // the start-up path, as it does when running the sources (one file would hoist their imports to the top).
    outdir: dirname(outfile),
    entryNames: 'modelgate-bundle',
    chunkNames: 'chunks/[name]-[hash]',
    splitting: true,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    external: externalPackages,
    minify: true,
    keepNames: true,
    legalComments: 'linked',
    sourcemap: 'linked',
    logLevel: 'warning',
    plugins: [lazyBuiltinsPlugin()],
    // Bundled CommonJS dependencies call require() for Node built-ins: give the ES module one.
    banner: { js: "import { createRequire as __modelgateCreateRequire } from 'node:module'; const require = __modelgateCreateRequire(import.meta.url);" },
  });
  writeFileSync(outfile, entrySource);
  await buildDashboard(join(dirname(outfile), 'dashboard'));
  return { outfile, bytes: statSync(bundleFile).size };
}

if (import.meta.main) {
  const argument = process.argv.slice(2).find((value) => value.startsWith('--outfile='));
  const startedAt = performance.now();
  const { outfile, bytes } = await buildBundle(argument ? resolve(argument.slice('--outfile='.length)) : undefined);
  process.stdout.write(`built ${outfile} (${(bytes / 1024).toFixed(0)} KiB) in ${(performance.now() - startedAt).toFixed(0)} ms\n`);
}
