/** A bench run's results as files: `<name>.json` and its chart `<name>.svg`. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BenchResults, renderSvg } from './report.ts';

export function writeResults(results: BenchResults, directory: string, name: string): { json: string; svg: string } {
  mkdirSync(directory, { recursive: true });
  const json = join(directory, `${name}.json`);
  const svg = join(directory, `${name}.svg`);
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(svg, renderSvg(results));
  return { json, svg };
}
