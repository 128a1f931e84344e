/**
 * The production entry, dist/modelgate.mjs (built from this file by scripts/build.ts, which replaces
 * MODELGATE_BUNDLE_FILE with the bundle's file name beside it and MODELGATE_BUNDLE_HASH with its content hash). Turns on Node's compile cache for the packages loaded
 * from node_modules at run time, then runs the bundle with its own code cache (code-cache-loader.ts).
 */
import * as nodeModule from 'node:module';
import { fileURLToPath } from 'node:url';
import { loadBundle } from './code-cache-loader.ts';

declare const MODELGATE_BUNDLE_FILE: string;
declare const MODELGATE_BUNDLE_HASH: string;

try {
  nodeModule.enableCompileCache?.();
} catch {
  // no cache (read-only directory, old Node): those packages are compiled as usual
}
loadBundle({ bundleFile: fileURLToPath(new URL(MODELGATE_BUNDLE_FILE, import.meta.url)), bundleHash: MODELGATE_BUNDLE_HASH });
