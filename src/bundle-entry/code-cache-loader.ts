/**
 * Loads the production bundle (a CommonJS file written by scripts/build.ts) with a V8 code cache taken once
 * the gateway has started, not when the file was compiled.
 *
 * Why not only Node's compile cache (`module.enableCompileCache()`): Node writes that cache right after it
 * compiles a file, when V8 has compiled only the top level and the functions it compiles eagerly. Every
 * function the start-up calls (config parsing, schema building, route registration, migrations...) is still
 * compiled at each start. `vm.Script#createCachedData()` called after the start covers those functions too.
 * Measured on the same bundle, spawn to the first /health (2026-12-04, docs/benchmarks.md, "Start-up and idle
 * memory"): about 430 ms with Node's cache, about 345 ms with this one.
 *
 * The cache file is named after the bundle's content hash (computed at build time), the Node version and the
 * architecture, so a rebuilt bundle never reads a cache made for another. V8 checks its own version and flags
 * as well and rejects a cache that does not match; a rejected, missing or unreadable cache means the bundle is
 * compiled as usual and a new cache is written once the gateway signals it has started (`startedEvent` on
 * `process`, src/core/after-start.ts). The file is written to a temporary name and renamed, so a replica
 * starting at the same moment reads either no cache or a whole one. A directory that cannot be written means no
 * cache, never a failure.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Script, constants as vmConstants } from 'node:vm';
import { startedEvent } from '../core/after-start.ts';

export interface BundleLoadOptions {
  /** Absolute path of the CommonJS bundle. */
  bundleFile: string;
  /** The bundle's content hash, written into the entry by the build. */
  bundleHash: string;
  /** Where cache files go; by default Node's compile cache directory (NODE_COMPILE_CACHE, else <tmp>/node-compile-cache). */
  cacheDirectory?: string;
}

export interface BundleLoad {
  cacheFile: string;
  /** Whether V8 accepted a cache: the bundle's functions were read, not compiled. */
  cacheUsed: boolean;
  /** Writes the cache now if none was accepted (called on `startedEvent`); whether a file was written. */
  writeCache(): boolean;
}

export function defaultCacheDirectory(): string {
  return process.env.NODE_COMPILE_CACHE || join(tmpdir(), 'node-compile-cache');
}

export function cacheFileName(bundleHash: string): string {
  return `modelgate-${bundleHash}-${process.version}-${process.arch}.code-cache`;
}

function readCache(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Compiles and runs the bundle as Node runs a CommonJS module, with the cache when there is a valid one. */
export function loadBundle(options: BundleLoadOptions): BundleLoad {
  const cacheFile = join(options.cacheDirectory ?? defaultCacheDirectory(), cacheFileName(options.bundleHash));
  const source = readFileSync(options.bundleFile, 'utf8');
  const cachedData = readCache(cacheFile);
  // Node's own CommonJS wrapper, on the bundle's first line (the banner), so line numbers stay as in the file.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: options.bundleFile,
    ...(cachedData ? { cachedData } : {}),
    importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const cacheUsed = cachedData !== undefined && !script.cachedDataRejected;
  let written = cacheUsed;
  const load: BundleLoad = {
    cacheFile,
    cacheUsed,
    writeCache() {
      if (written) return false;
      written = true;
      try {
        const data = script.createCachedData();
        mkdirSync(dirname(cacheFile), { recursive: true });
        const partial = `${cacheFile}.${process.pid}.tmp`;
        writeFileSync(partial, data, { mode: 0o600 });
        renameSync(partial, cacheFile);
        return true;
      } catch {
        return false;
      }
    },
  };
  if (!cacheUsed) process.once(startedEvent, () => load.writeCache());
  const module = { exports: {} };
  const run = script.runInThisContext() as (...parameters: unknown[]) => void;
  run(module.exports, createRequire(options.bundleFile), module, options.bundleFile, dirname(options.bundleFile));
  return load;
}
