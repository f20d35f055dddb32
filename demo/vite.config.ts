/**
 * The demo's Vite config: `npm run demo` (dev server) and `npm run build:demo` (static
 * site in demo/dist with relative paths). `eddy` resolves to this repository's sources,
 * as an app would resolve the installed package.
 */
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const src = (path: string) => fileURLToPath(new URL(`../src/${path}`, import.meta.url));
const repo = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  resolve: {
    alias: [
      { find: /^eddy$/, replacement: src('index.ts') },
      { find: /^eddy\/sqlite$/, replacement: src('backends/sqlite/index.ts') },
      { find: /^eddy\/runtimes\/web-workers$/, replacement: src('runtimes/web/web-workers.ts') },
    ],
  },
  // sqlite-wasm finds its .wasm next to its own module: pre-bundling would move it away.
  optimizeDeps: { exclude: ['@sqlite.org/sqlite-wasm'] },
  // Module workers that import chunks (the host worker starts the eddy workers).
  worker: { format: 'es' },
  // The dev server serves the repository and node_modules wherever it really lives (a symlinked node_modules too: sqlite's .wasm is fetched from there).
  server: { host: '127.0.0.1', fs: { allow: [repo, ...(existsSync(`${repo}/node_modules`) ? [realpathSync(`${repo}/node_modules`)] : [])] } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2000 },
});
