/**
 * The bundle's lazy built-ins (scripts/lazy-builtins-plugin.ts): every rewrite still finds its text, exactly
 * once, in the installed dependency (the build fails otherwise, and so does this test, earlier); a missing text
 * is an error naming the file; the lazy proxy requires its module on the first property read, not before.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyRewrite, rewrites } from '../scripts/lazy-builtins-plugin.ts';

const projectDirectory = join(import.meta.dirname, '..');

describe('lazy built-ins of the bundle', () => {
  it.each(rewrites.map((rewrite) => [rewrite.file, rewrite] as const))('rewrites %s', (_file, rewrite) => {
    const source = readFileSync(join(projectDirectory, rewrite.file), 'utf8');
    const rewritten = applyRewrite(source, rewrite);
    for (const [from, to] of rewrite.replacements) {
      expect(rewritten).toContain(to);
      expect(rewritten.split(from).length - 1, from).toBe(to.includes(from) ? 1 : 0);
    }
  });

  it('fails on a dependency that no longer has the text', () => {
    const [rewrite] = rewrites;
    if (!rewrite) throw new Error('no rewrites');
    expect(() => applyRewrite('module.exports = {}', rewrite)).toThrow(/expected ".+" once in node_modules\/undici.+found it 0 times/);
  });

  it('requires a lazy module at its first property read', () => {
    const source = applyRewrite("const http2 = require('node:http2')\nmodule.exports = () => http2.constants", {
      file: 'example.js',
      replacements: [["require('node:http2')", "__modelgateLazy(() => require('node:http2'))"]],
    });
    const loaded: string[] = [];
    const realRequire = createRequire(import.meta.url);
    const trackingRequire = (name: string) => {
      loaded.push(name);
      return realRequire(name);
    };
    const module = { exports: {} as unknown };
    new Function('require', 'module', source)(trackingRequire, module);
    expect(loaded).toEqual([]);
    expect((module.exports as () => Record<string, unknown>)().HTTP2_HEADER_STATUS).toBe(':status');
    expect(loaded).toEqual(['node:http2']);
  });
});
