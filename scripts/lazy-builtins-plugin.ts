/**
 * An esbuild plugin for the production bundle (scripts/build.ts): Node's TLS and HTTP/2 modules (node:tls,
 * node:https, node:http2), which bundled dependencies require when they load for features Modelgate's default
 * path never uses, are loaded at their first use instead:
 * - undici/lib/dispatcher/client.js requires its HTTP/2 client (client-h2.js, which requires node:http2 and
 *   reads its constants at once) for upstreams that negotiate h2; it is now required when such a connection
 *   opens. TLS upstreams still work as before: undici's connect.js already requires node:tls on first use.
 * - fastify/lib/server.js requires node:https and node:http2 for its `https` and `http2` server options
 *   (Modelgate serves plain HTTP/1.1);
 * - prom-client/lib/pushgateway.js requires https for the Pushgateway client (Modelgate is scraped).
 * Node 24, each measured alone: node:http2 about 29 ms and node:https 31 ms at start (both load node:tls).
 *
 * A listed `require(...)` of a built-in becomes a proxy that requires the module on the first property read,
 * which is how those files use them (`https.createServer`, `http2.createSecureServer`, `https.request`).
 * The build fails when a listed file no longer contains its text exactly once, or is not in the bundle (the
 * dependency changed): the list is checked, never silently ignored.
 */
import { readFile } from 'node:fs/promises';
import type { Plugin } from 'esbuild';

interface Rewrite {
  /** Path suffix of the dependency's file, with forward slashes. */
  file: string;
  /** Text to find (exactly once) and what it becomes. */
  replacements: [string, string][];
}

const lazy = (call: string): [string, string] => [call, `__modelgateLazy(() => ${call})`];

export const rewrites: Rewrite[] = [
  {
    file: 'node_modules/undici/lib/dispatcher/client.js',
    replacements: [["const connectH2 = require('./client-h2.js')", "const connectH2 = (...args) => require('./client-h2.js')(...args)"]],
  },
  { file: 'node_modules/fastify/lib/server.js', replacements: [lazy("require('node:https')"), lazy("require('node:http2')")] },
  { file: 'node_modules/prom-client/lib/pushgateway.js', replacements: [lazy("require('https')")] },
];

const lazyHelper =
  'const __modelgateLazy = (load) => { let loaded; return new Proxy({}, { get: (_target, name) => (loaded ??= load())[name] }); };\n';

/** `source` with each replacement made (each text found exactly once); throws naming what is missing. */
export function applyRewrite(source: string, rewrite: Rewrite): string {
  let result = source;
  for (const [from, to] of rewrite.replacements) {
    const count = result.split(from).length - 1;
    if (count !== 1) throw new Error(`lazy built-ins: expected "${from}" once in ${rewrite.file}, found it ${count} times (the dependency changed)`);
    result = result.replace(from, to);
  }
  return result.includes('__modelgateLazy(') ? lazyHelper + result : result;
}

export function lazyBuiltinsPlugin(): Plugin {
  return {
    name: 'modelgate-lazy-builtins',
    setup(build) {
      const seen = new Set<string>();
      build.onLoad({ filter: /[\\/](undici[\\/]lib[\\/]dispatcher[\\/]client|fastify[\\/]lib[\\/]server|prom-client[\\/]lib[\\/]pushgateway)\.js$/ }, async (args) => {
        const path = args.path.replaceAll('\\', '/');
        const rewrite = rewrites.find((candidate) => path.endsWith(candidate.file));
        if (!rewrite) return undefined;
        seen.add(rewrite.file);
        return { contents: applyRewrite(await readFile(args.path, 'utf8'), rewrite), loader: 'js' };
      });
      build.onEnd((result) => {
        if (result.errors.length > 0) return;
        const missing = rewrites.filter((rewrite) => !seen.has(rewrite.file)).map((rewrite) => rewrite.file);
        if (missing.length > 0) throw new Error(`lazy built-ins: ${missing.join(', ')} not in the bundle (the dependency changed)`);
      });
    },
  };
}
