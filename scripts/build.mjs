// `npm run build`: the package as it ships, in dist/ — ESM JavaScript, .d.ts and source maps
// (sources inlined, since src/ does not ship). tsc does the compiling (TS 7's
// rewriteRelativeImportExtensions turns `./x.ts` imports into `./x.js`); this script only
// does what tsc leaves: the worker URLs written as `new URL('./x.ts', import.meta.url)`
// (a string, not an import, so tsc keeps `.ts`), `.ts` specifiers tsc keeps in `.d.ts`
// files (imports, and `declare module` augmentations), and the plain `.mjs` files next to
// the sources (the Node worker boot).
// Nothing here names an internal path: moving files under src/ needs no change.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const started = performance.now();

rmSync(dist, { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

// A relative specifier ending in .ts, quoted: in `new URL('…', import.meta.url)` (JS) and in from/import() (.d.ts).
const WORKER_URL = /new URL\((['"])(\.{1,2}\/[^'"]+)\.ts\1, import\.meta\.url\)/g;
const DTS_SPECIFIER = /((?:from|import|module)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]+)\.ts\2/g;
for (const file of walk(dist)) {
  const text = readFileSync(file, 'utf8');
  let out = text;
  if (file.endsWith('.js')) out = text.replace(WORKER_URL, (_m, q, path) => `new URL(${q}${path}.js${q}, import.meta.url)`);
  else if (file.endsWith('.d.ts')) out = text.replace(DTS_SPECIFIER, (_m, head, q, path) => `${head}${q}${path}.js${q}`);
  if (out !== text) writeFileSync(file, out);
}

for (const file of walk(join(root, 'src'))) {
  if (!file.endsWith('.mjs')) continue;
  const target = join(dist, relative(root, file));
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(file, target);
}
console.log(`built dist/ in ${((performance.now() - started) / 1000).toFixed(1)} s`);
