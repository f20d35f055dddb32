/**
 * Reads the import graph of `src/` (plain Node, no parser dependency): every static
 * `import`/`export … from`, every `import('…')` with a literal, and every
 * `new URL('./x.ts', import.meta.url)` (a worker entry is a dependency too).
 * Comments and the insides of strings are skipped, so an example in a JSDoc block is no import.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** One import edge: `from` imports `specifier`, resolved to `to` (a repo-relative path) or a package/platform name. */
export interface ImportEdge {
  readonly from: string;
  readonly specifier: string;
  /** Repo-relative path of the imported source file, or undefined for a package or `node:` module. */
  readonly to: string | undefined;
  readonly typeOnly: boolean;
}

/** Every `.ts`/`.mjs` file under `dir` (repo-relative, `/`-separated). */
export function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|mjs)$/.test(e.name)) out.push(relative(root, p).split(sep).join('/'));
    }
  };
  walk(join(root, dir));
  return out.sort();
}

/** The text with comments blanked and string/template contents kept only for the quote kinds an import can use. */
function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const n = text[i + 1];
    if (c === '/' && n === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && n === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
      out += ' ';
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\') j++;
        j++;
      }
      // Template literals never name an import here; keep quotes and contents of plain strings.
      out += c === '`' ? '``' : text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const STATIC = /(?:^|[;\n}])\s*(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s*)?(['"])([^'"]+)\3/g;
const DYNAMIC = /\bimport\s*\(\s*(['"])([^'"]+)\1\s*\)/g;
const URL_REF = /\bnew\s+URL\s*\(\s*(['"])(\.{1,2}\/[^'"]+)\1\s*,\s*import\.meta\.url\s*\)/g;

/** Resolves a bare `eddy`/`eddy/x` specifier through package.json exports; undefined for other packages. */
function resolveSelf(root: string, specifier: string): string | undefined {
  if (specifier !== 'eddy' && !specifier.startsWith('eddy/')) return undefined;
  const exportsMap = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).exports as Record<string, string>;
  const key = specifier === 'eddy' ? '.' : `./${specifier.slice(5)}`;
  const target = exportsMap[key];
  return target === undefined ? undefined : target.replace(/^\.\//, '');
}

/** The import edges of one file. */
export function importsOf(root: string, file: string): ImportEdge[] {
  const text = stripComments(readFileSync(join(root, file), 'utf8'));
  const edges: ImportEdge[] = [];
  const add = (specifier: string, typeOnly: boolean): void => {
    let to: string | undefined;
    if (specifier.startsWith('.')) {
      to = relative(root, resolve(root, dirname(file), specifier))
        .split(sep)
        .join('/');
      if (!existsSync(join(root, to))) throw new Error(`${file}: import '${specifier}' names no file`);
    } else {
      to = resolveSelf(root, specifier);
    }
    edges.push({ from: file, specifier, to, typeOnly });
  };
  for (const m of text.matchAll(STATIC)) add(m[4]!, m[2] !== undefined);
  for (const m of text.matchAll(DYNAMIC)) add(m[2]!, false);
  for (const m of text.matchAll(URL_REF)) add(m[2]!, false);
  return edges;
}

/** Strongly connected components of more than one node (or a self-loop): the import cycles. */
export function cycles(nodes: Iterable<string>, edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || edges.get(v)?.has(v)) out.push(scc.sort());
    }
  };
  for (const v of nodes) if (!idx.has(v)) visit(v);
  return out;
}
