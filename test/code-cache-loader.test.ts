/**
 * The production entry's code cache (src/bundle-entry/code-cache-loader.ts), on a small CommonJS file: a first
 * load compiles and writes the cache when the gateway announces its start; a second load uses it; a cache that
 * V8 does not accept (corrupt, or made for other source of the same name) is replaced; a directory that cannot
 * be written is no failure. test/main-process.test.ts checks the same with the real bundle.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheFileName, loadBundle } from '../src/bundle-entry/code-cache-loader.ts';
import { startedEvent } from '../src/core/after-start.ts';

const directories: string[] = [];
afterEach(() => {
  process.removeAllListeners(startedEvent);
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function scratch(): string {
  const directory = mkdtempSync(join(tmpdir(), 'modelgate-code-cache-test-'));
  directories.push(directory);
  return directory;
}

/** A bundle that records each run and uses what the CommonJS wrapper passes it. */
function writeBundle(directory: string, marker: string): string {
  const file = join(directory, 'bundle.cjs');
  const functions = Array.from(
    { length: 50 },
    (_, index) => `function f${index}(value) { return value * ${index} + ${marker.length}; }`,
  ).join('\n');
  writeFileSync(
    file,
    `${functions}\nconst path = require('node:path');\nglobalThis.__codeCacheRuns = [...(globalThis.__codeCacheRuns ?? []), { marker: ${JSON.stringify(marker)}, file: path.basename(__filename), total: f49(2) }];\nmodule.exports.ok = true;\n`,
  );
  return file;
}

const runs = () => (globalThis as { __codeCacheRuns?: { marker: string; file: string; total: number }[] }).__codeCacheRuns ?? [];

describe('code cache loader', () => {
  it('runs the bundle, writes the cache on the started event, then loads from it', () => {
    const directory = scratch();
    const bundleFile = writeBundle(directory, 'first');
    const cacheDirectory = join(directory, 'cache');
    const before = runs().length;
    const first = loadBundle({ bundleFile, bundleHash: 'aaaa', cacheDirectory });
    expect(first.cacheUsed).toBe(false);
    expect(runs().slice(before)).toEqual([{ marker: 'first', file: 'bundle.cjs', total: 98 + 5 }]);
    expect(first.cacheFile).toBe(join(cacheDirectory, cacheFileName('aaaa')));
    expect(() => statSync(first.cacheFile)).toThrow();
    process.emit(startedEvent);
    expect(statSync(first.cacheFile).size).toBeGreaterThan(0);
    // Written once: a second started event writes nothing more.
    expect(first.writeCache()).toBe(false);

    const second = loadBundle({ bundleFile, bundleHash: 'aaaa', cacheDirectory });
    expect(second.cacheUsed).toBe(true);
    expect(second.writeCache()).toBe(false);
    expect(
      runs()
        .slice(before)
        .map((run) => run.marker),
    ).toEqual(['first', 'first']);
  });

  it('names the cache after the bundle hash and the Node version, so another build never reads it', () => {
    expect(cacheFileName('0123456789abcdef')).toBe(`modelgate-0123456789abcdef-${process.version}-${process.arch}.code-cache`);
    const directory = scratch();
    const bundleFile = writeBundle(directory, 'one');
    const cacheDirectory = join(directory, 'cache');
    loadBundle({ bundleFile, bundleHash: 'one', cacheDirectory }).writeCache();
    expect(loadBundle({ bundleFile, bundleHash: 'two', cacheDirectory }).cacheUsed).toBe(false);
  });

  it('replaces a cache V8 rejects: corrupt bytes, or a cache made for other source', () => {
    const directory = scratch();
    const cacheDirectory = join(directory, 'cache');
    mkdirSync(cacheDirectory);
    const bundleFile = writeBundle(directory, 'current');
    const cacheFile = join(cacheDirectory, cacheFileName('hash'));
    writeFileSync(cacheFile, Buffer.from('not a V8 code cache at all'.repeat(20)));
    const corrupt = loadBundle({ bundleFile, bundleHash: 'hash', cacheDirectory });
    expect(corrupt.cacheUsed).toBe(false);
    expect(corrupt.writeCache()).toBe(true);
    expect(loadBundle({ bundleFile, bundleHash: 'hash', cacheDirectory }).cacheUsed).toBe(true);

    // Same file name, other source: V8 refuses it, the bundle still runs its own code.
    const otherDirectory = scratch();
    const otherBundle = writeBundle(otherDirectory, 'other-source-longer');
    const before = runs().length;
    const stale = loadBundle({ bundleFile: otherBundle, bundleHash: 'hash', cacheDirectory });
    expect(stale.cacheUsed).toBe(false);
    expect(
      runs()
        .slice(before)
        .map((run) => run.marker),
    ).toEqual(['other-source-longer']);
  });

  it('runs without a cache when the directory cannot be written', () => {
    const directory = scratch();
    const bundleFile = writeBundle(directory, 'read-only');
    const readOnly = join(directory, 'read-only');
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o500);
    const cacheDirectory = join(readOnly, 'cache');
    const load = loadBundle({ bundleFile, bundleHash: 'ro', cacheDirectory });
    expect(load.cacheUsed).toBe(false);
    // root ignores directory permissions: then the write succeeds, which is fine too.
    const written = load.writeCache();
    if (process.getuid?.() !== 0) expect(written).toBe(false);
    chmodSync(readOnly, 0o700);
    expect(readFileSync(bundleFile, 'utf8')).toContain('read-only');
  });
});
