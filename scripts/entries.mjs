// The package's public entries, read from package.json's `exports` (the one list to keep
// up to date): each subpath with its built module, its types and the source file it is
// built from. The build, the docs check, the size bench and the bundle tests use this
// instead of naming internal files.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root (a directory path ending in `/`). */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** `[{ subpath: '.', name: 'eddy', import: 'dist/src/index.js', types: 'dist/src/index.d.ts', source: 'src/index.ts' }, …]` */
export function publicEntries() {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return Object.entries(pkg.exports)
    .filter(([, target]) => typeof target === 'object')
    .map(([subpath, target]) => {
      const built = target.import.replace(/^\.\//, '');
      return {
        subpath,
        name: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`,
        import: built,
        types: target.types.replace(/^\.\//, ''),
        // dist/<path>.js is built from <path>.ts (tsconfig.build.json: rootDir '.', outDir 'dist').
        source: built.replace(/^dist\//, '').replace(/\.js$/, '.ts'),
      };
    });
}

// `node scripts/entries.mjs sources` prints the source files (for `deno check`).
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'sources') {
  console.log(
    publicEntries()
      .map((e) => e.source)
      .join(' '),
  );
}
