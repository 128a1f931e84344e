/** Style sheets imported by main.tsx are bundled by esbuild into app-<hash>.css. */
declare module '*.css';
