/** Where the bench lives, the project it measures and the production bundle it builds for target `bundle`. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDirectory = dirname(fileURLToPath(import.meta.url));
export const projectDirectory = resolve(benchDirectory, '..');
export const bundleFile = join(projectDirectory, 'dist', 'modelgate.mjs');
export const portkeyServerFile = join(projectDirectory, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
