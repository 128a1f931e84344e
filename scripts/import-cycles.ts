/**
 * Finds import cycles among the TypeScript files under the given folders (default: src, bench, scripts, test):
 * `node scripts/import-cycles.ts [folder ...]` prints each cycle and exits 1 when there is one that is not
 * listed in `knownTypeCycles`. The graph is built from the static relative imports and re-exports of each
 * file (`import ... from './x.ts'`, `export ... from './x.ts'`, `import './x.ts'`), type-only ones
 * (`import type`, `export type`) included: a cycle of types is a cycle of concepts too, though only one
 * without them can fail at load time. Dynamic `import()` is left out, as it loads nothing when the module
 * loads. Run by test/import-cycles.test.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export const defaultFolders = ['src', 'bench', 'scripts', 'test'];
const sourceFile = /\.(ts|tsx|mts)$/;
// `import x from '…'`, `import type { X } from '…'`, `export { x } from '…'`, `export * from '…'`, `import '…'`:
// the keyword starts a statement (start of a line), the specifier is relative.
const importPattern = /^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s*)?['"](\.{1,2}\/[^'"]+)['"]/gm;

/**
 * Cycles that exist only through type-only imports, each as its files sorted and joined by a space, left for
 * the folders' owners: the config types <- provider types, the storage tables <- the database's migration types.
 * Remove an entry once its cycle is gone (the test says so).
 */
export const knownTypeCycles = [
  'src/config/load-config.ts src/providers/all-provider-types.ts src/providers/provider-types.ts',
  'src/storage/database.ts src/storage/tables.ts',
];

export interface ImportCycle {
  /** Files from the first (by name) through its imports back to it, relative to the root. */
  path: string[];
  /** Whether the cycle goes away without the type-only imports (it cannot fail at load time). */
  typeOnly: boolean;
  /** Whether it is one of `knownTypeCycles`. */
  known: boolean;
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return sourceFile.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The relative imports of one file's text, as written, and whether each is type-only. */
export function importSpecifiers(text: string): { specifier: string; typeOnly: boolean }[] {
  return [...text.matchAll(importPattern)].map((match) => ({ specifier: match[2] as string, typeOnly: match[1] !== undefined }));
}

/** Each file's imported files (those among `files`), by absolute path; with `runtimeOnly`, without type-only imports. */
export function importGraph(files: string[], runtimeOnly = false): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = importSpecifiers(readFileSync(file, 'utf8'))
      .filter((entry) => !(runtimeOnly && entry.typeOnly))
      .map((entry) => resolve(dirname(file), entry.specifier))
      .filter((target) => known.has(target));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/**
 * The cycles of a graph: its strongly connected components of more than one file, or of one file that
 * imports itself (Tarjan's algorithm, iterative so that deep graphs do not overflow the stack), each as one
 * path through the component that returns to its start.
 */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: { node: string; next: number }[] = [{ node: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: string; next: number };
      const edges = graph.get(frame.node) ?? [];
      if (frame.next < edges.length) {
        const target = edges[frame.next++] as string;
        if (!index.has(target)) {
          index.set(target, counter);
          low.set(target, counter++);
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, next: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node) as number, index.get(target) as number));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node) as number, low.get(frame.node) as number));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop() as string;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        const selfImport = component.length === 1 && (graph.get(frame.node) ?? []).includes(frame.node);
        if (component.length > 1 || selfImport) components.push(component);
      }
    }
  }
  return components.map((component) => cyclePath(graph, new Set(component)));
}

/** One path from the component's first file (by name) through its imports back to that file. */
function cyclePath(graph: Map<string, string[]>, members: Set<string>): string[] {
  const start = [...members].sort()[0] as string;
  // Breadth-first from the start's imports back to the start: the shortest cycle through it.
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift() as string;
    for (const target of graph.get(node) ?? []) {
      if (!members.has(target)) continue;
      if (target === start) {
        const path = [start];
        for (let step = node; step !== start; step = previous.get(step) as string) path.unshift(step);
        path.unshift(start);
        return path;
      }
      if (!previous.has(target)) {
        previous.set(target, node);
        queue.push(target);
      }
    }
  }
  return [start, start];
}

/** The import cycles among the source files under `folders` (relative to `root`). */
export function importCycles(root: string, folders: string[]): ImportCycle[] {
  const files = folders.flatMap((folder) => {
    const directory = resolve(root, folder);
    return statSync(directory, { throwIfNoEntry: false })?.isDirectory() ? sourceFiles(directory) : [];
  });
  const runtimeMembers = new Set(findCycles(importGraph(files, true)).flat());
  return findCycles(importGraph(files)).map((cycle) => {
    const path = cycle.map((file) => relative(root, file));
    const members = [...new Set(path)].sort().join(' ');
    const typeOnly = !cycle.some((file) => runtimeMembers.has(file));
    return { path, typeOnly, known: typeOnly && knownTypeCycles.includes(members) };
  });
}

if (import.meta.main) {
  const root = resolve(import.meta.dirname, '..');
  const folders = process.argv.slice(2);
  const cycles = importCycles(root, folders.length > 0 ? folders : defaultFolders);
  for (const cycle of cycles) {
    const kind = cycle.known ? 'known, type-only' : cycle.typeOnly ? 'type-only' : 'at load time';
    process.stdout.write(`import cycle (${kind}): ${cycle.path.join(' -> ')}\n`);
  }
  const failing = cycles.filter((cycle) => !cycle.known).length;
  process.stdout.write(failing === 0 ? 'no new import cycle\n' : `${failing} import cycle(s)\n`);
  process.exitCode = failing === 0 ? 0 : 1;
}
