// The exports of a declaration file (.d.ts as tsc emits it), each followed through
// re-exports and imports to its declaration, with the JSDoc comment right before it.
// Used by docs.mjs; tested by test/package/docs.test.ts.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Parsed .d.ts files, by path. */
const parsed = new Map();

/** The statements of a .d.ts that matter here: imports, exports and top-level declarations. */
function parse(file) {
  if (parsed.has(file)) return parsed.get(file);
  const text = readFileSync(file, 'utf8');
  const declarations = new Map();
  const reexports = [];
  const stars = [];
  const imports = new Map();
  const local = [];
  // Top-level statements start at column 0; a declaration's comment ends right before it.
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    let m;
    if ((m = /^(export )?(?:declare )?(?:abstract )?(class|function|const|let|interface|type|enum|namespace) ([\w$]+)/.exec(line))) {
      const name = m[3];
      if (!declarations.has(name)) declarations.set(name, { file, line: i + 1, doc: docBefore(lines, i), signature: signatureAt(lines, i) });
      if (m[1]) local.push([name, name]);
    } else if ((m = /^export (?:type )?\{([^}]*)\} from ['"]([^'"]+)['"]/.exec(statement(lines, i)))) {
      for (const [exportedName, importedName] of specifiers(m[1])) reexports.push([exportedName, importedName, resolve(file, m[2])]);
    } else if ((m = /^export \* from ['"]([^'"]+)['"]/.exec(line))) {
      stars.push(resolve(file, m[1]));
    } else if ((m = /^import (?:type )?\{([^}]*)\} from ['"]([^'"]+)['"]/.exec(statement(lines, i)))) {
      for (const [localName, importedName] of specifiers(m[1])) imports.set(localName, [importedName, resolve(file, m[2])]);
    } else if ((m = /^export (?:type )?\{([^}]*)\};/.exec(statement(lines, i)))) {
      for (const [exportedName, localName] of specifiers(m[1])) local.push([exportedName, localName]);
    }
  }
  const result = { declarations, reexports, stars, imports, local };
  parsed.set(file, result);
  return result;
}

/** `{ a, b as c, type d }` → [['a','a'], ['c','b'], ['d','d']] as [exported or local name, original name]. */
function specifiers(list) {
  return list
    .split(',')
    .map((s) => s.trim().replace(/^type\s+/, ''))
    .filter(Boolean)
    .map((s) => {
      const [orig, , alias] = s.split(/\s+/);
      return [alias ?? orig, orig];
    });
}

/** A statement that may span lines (a multi-line export list), joined. */
function statement(lines, i) {
  if (!/^(export|import) (type )?\{/.test(lines[i]) || lines[i].includes('}')) return lines[i];
  let s = lines[i];
  for (let j = i + 1; j < lines.length && !s.includes('}'); j++) s += ` ${lines[j].trim()}`;
  return s;
}

function resolve(from, specifier) {
  return join(dirname(from), specifier.replace(/\.(ts|js)$/, '.d.ts'));
}

/** The JSDoc text right before line i (undefined when the previous non-blank line does not end a /** comment). */
function docBefore(lines, i) {
  let j = i - 1;
  if (j >= 0 && /^\s*\/\/ biome-ignore/.test(lines[j])) j--;
  if (j < 0 || !lines[j].trim().endsWith('*/')) return undefined;
  const end = j;
  while (j >= 0 && !lines[j].trim().startsWith('/**')) j--;
  if (j < 0) return undefined;
  const text = lines
    .slice(j, end + 1)
    .map((l) => l.trim().replace(/^\/\*\*\s?|\s?\*\/$|^\*\s?/g, ''))
    .join('\n')
    .trim();
  return text.length > 0 && !/^@internal\b/.test(text) ? text : undefined;
}

/** The declaration's head: up to its first `{` or `;` line. */
function signatureAt(lines, i) {
  const out = [];
  for (let j = i; j < lines.length && out.length < 8; j++) {
    out.push(lines[j]);
    if (/[{;]\s*$/.test(lines[j])) break;
  }
  return out.join('\n').replace(/\s*\{\s*$/, '');
}

/** Every name `file` exports, mapped to its declaration (followed through re-exports). */
export function exportsOf(file, seen = new Set()) {
  const result = new Map();
  if (seen.has(file)) return result;
  seen.add(file);
  const f = parse(file);
  for (const [exportedName, localName] of f.local) result.set(exportedName, declarationOf(file, localName, new Set()));
  for (const [exportedName, importedName, target] of f.reexports) result.set(exportedName, declarationOf(target, importedName, new Set()));
  for (const target of f.stars) for (const [name, decl] of exportsOf(target, seen)) if (!result.has(name)) result.set(name, decl);
  return result;
}

/** The declaration of `name` as `file` sees it: declared there, imported, or re-exported. */
function declarationOf(file, name, seen) {
  const key = `${file}#${name}`;
  if (seen.has(key)) return undefined;
  seen.add(key);
  const f = parse(file);
  if (f.declarations.has(name)) return f.declarations.get(name);
  const imported = f.imports.get(name);
  if (imported) return declarationOf(imported[1], imported[0], seen);
  for (const [exportedName, importedName, target] of f.reexports) if (exportedName === name) return declarationOf(target, importedName, seen);
  for (const target of f.stars) {
    const d = declarationOf(target, name, seen);
    if (d) return d;
  }
  return undefined;
}
