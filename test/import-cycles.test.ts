/**
 * No import circles (docs: the developers' guide): scripts/import-cycles.ts over src, bench, scripts and test
 * finds no cycle but the known type-only ones, and each known one still exists (else its entry goes). The
 * finder itself, on small trees written here: a cycle at load time, a type-only one, a self-import, multi-line
 * imports and re-exports are found; dynamic imports and acyclic trees are not reported.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultFolders, importCycles, knownTypeCycles } from '../scripts/import-cycles.ts';

const root = resolve(import.meta.dirname, '..');

describe('import cycles of this repository', () => {
  const cycles = importCycles(root, defaultFolders);

  it('has none but the known type-only ones', () => {
    expect(cycles.filter((cycle) => !cycle.known).map((cycle) => cycle.path.join(' -> '))).toEqual([]);
  });

  it('still has each known one (remove the entry of a cycle that is gone)', () => {
    const found = cycles.filter((cycle) => cycle.known).map((cycle) => [...new Set(cycle.path)].sort().join(' '));
    expect(found.sort()).toEqual([...knownTypeCycles].sort());
  });
});

describe('the cycle finder', () => {
  const directory = mkdtempSync(join(tmpdir(), 'modelgate-import-cycles-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  const tree = (name: string, files: Record<string, string>) => {
    for (const [file, text] of Object.entries(files)) {
      const path = join(directory, name, file);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    }
    return importCycles(directory, [name]);
  };

  it('finds a cycle at load time through a multi-line import and a re-export', () => {
    const cycles = tree('runtime', {
      'a.ts': "import {\n  b,\n  other,\n} from './b.ts';\nexport const a = () => b;\n",
      'b.ts': "export * from './sub/c.ts';\nexport const b = 1;\nexport const other = 2;\n",
      'sub/c.ts': "import { a } from '../a.ts';\nexport const c = a;\n",
    });
    expect(cycles).toEqual([{ path: ['runtime/a.ts', 'runtime/b.ts', 'runtime/sub/c.ts', 'runtime/a.ts'], typeOnly: false, known: false }]);
  });

  it('marks a cycle through an import type as type-only, and finds a self-import', () => {
    const cycles = tree('types', {
      'x.ts': "import type { Y } from './y.ts';\nexport interface X { y: Y }\n",
      'y.ts': "import { make } from './x.ts';\nexport type Y = ReturnType<typeof make>;\n",
      'self.ts': "import './self.ts';\n",
    });
    expect(cycles).toEqual(
      expect.arrayContaining([
        { path: ['types/x.ts', 'types/y.ts', 'types/x.ts'], typeOnly: true, known: false },
        { path: ['types/self.ts', 'types/self.ts'], typeOnly: false, known: false },
      ]),
    );
    expect(cycles).toHaveLength(2);
  });

  it('reports nothing for an acyclic tree, a dynamic import back, or an import that only a string holds', () => {
    const cycles = tree('clean', {
      'main.ts': "import { helper } from './helper.ts';\nexport const run = () => helper();\n",
      'helper.ts': "export const helper = () => import('./main.ts');\nconst text = `import { run } from './main.ts'`;\n",
      'types.d.ts': "import './main.ts';\n",
    });
    expect(cycles).toEqual([]);
  });
});
