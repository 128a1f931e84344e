/**
 * `npm run build`: the production bundle, dist/modelgate.mjs — every source file and pure-JS dependency in
 * one ES module, so the process starts without type-stripping ~150 files or resolving hundreds of modules.
 * Left outside (loaded from node_modules at run time): native addons (better-sqlite3, sqlite-vec), packages
 * that read their own files (swagger-ui-dist) or load optional natives (pg's pg-native), and the Redis client
 * (loaded only when REDIS_URL is set). Data files imported with `with { type: 'json' }` are inlined.
 *
 * Usage: node scripts/build.ts [--outfile=dist/modelgate.mjs]
 */
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const projectDirectory = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Packages the bundle loads from node_modules instead of containing them. */
export const externalPackages = ['better-sqlite3', 'sqlite-vec', 'swagger-ui-dist', 'pg', 'pg-native', 'redis', '@redis/*'];

export async function buildBundle(outfile = join(projectDirectory, 'dist', 'modelgate.mjs')): Promise<{ outfile: string; bytes: number }> {
  await build({
    entryPoints: [join(projectDirectory, 'src', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    external: externalPackages,
    minifySyntax: true,
    legalComments: 'linked',
    sourcemap: 'linked',
    logLevel: 'warning',
    // Bundled CommonJS dependencies call require() for Node built-ins: give the ES module one.
    banner: { js: "import { createRequire as __modelgateCreateRequire } from 'node:module'; const require = __modelgateCreateRequire(import.meta.url);" },
  });
  return { outfile, bytes: statSync(outfile).size };
}

if (import.meta.main) {
  const argument = process.argv.slice(2).find((value) => value.startsWith('--outfile='));
  const startedAt = performance.now();
  const { outfile, bytes } = await buildBundle(argument ? resolve(argument.slice('--outfile='.length)) : undefined);
  process.stdout.write(`built ${outfile} (${(bytes / 1024).toFixed(0)} KiB) in ${(performance.now() - startedAt).toFixed(0)} ms\n`);
}
