/**
 * The layer rule of ARCHITECTURE.md, checked on every import of `src/`: imports run one
 * way (down the layers), plug-ins import only contracts and never each other nor the
 * engine, the core imports no package or platform module, and no files or folders import
 * each other in a circle (type-only imports count: they couple the files just the same).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cycles, importsOf, sourceFiles, type ImportEdge } from './imports.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The core layers, bottom first: a file may import its own layer and the ones below. */
const CORE = ['api', 'format', 'state', 'engine', 'datastream', 'workers'] as const;
/** Plug-ins: they import the contract layers only, and each plug-in only itself. */
const PLUGINS = ['backends', 'storages'] as const;
const CONTRACTS = new Set(['api', 'format', 'state']);
/**
 * The documented exception: the environment and the checkpoint config wire the in-memory
 * state backend and the in-memory checkpoint storage as defaults. Nothing else of the core
 * names a plug-in.
 */
const DEFAULTS = new Map([
  ['src/datastream/environment.ts', 'src/backends/memory.ts'],
  ['src/datastream/checkpointing.ts', 'src/storages/memory.ts'],
]);
/**
 * File cycles known and owned elsewhere: the IndexedDB backend's helpers name the backend
 * class as a type while the class calls them (type-only back-edges, no load-order hazard).
 * The branch that reshapes the backends into plain stores removes it; the test below then
 * fails until this entry goes too, so an exception cannot outlive its reason.
 */
const PENDING_CYCLES = new Set(['src/backends/indexeddb/backend.ts <-> src/backends/indexeddb/persist.ts <-> src/backends/indexeddb/tables.ts']);

/**
 * Package entries that gather code of several layers for their users, and that nothing in
 * `src/` imports: the root entry, and `eddy/cloudflare`, which lists the plug-ins only a
 * Worker can use (the R2 storage, the Durable Object backend) with the Cloudflare runtime.
 */
const ENTRIES = new Set(['src/index.ts', 'src/runtimes/cloudflare/index.ts']);

/** The layer of a file: its first folder under `src/` (`entry` for the {@link ENTRIES}). */
function layerOf(file: string): string {
  if (ENTRIES.has(file)) return 'entry';
  return file.split('/')[1]!;
}

/**
 * The unit a folder-cycle is checked between: the layer for the core; for plug-ins and
 * runtimes, one sub-folder, or the top-level files sharing a name up to the first dash
 * (`storages/fs.ts`, `fs-lock.ts` and `fs-files.ts` are one plug-in).
 */
function unitOf(file: string): string {
  const layer = layerOf(file);
  const parts = file.split('/');
  if (!(PLUGINS as readonly string[]).includes(layer) && layer !== 'runtimes') return layer;
  return parts.length > 3 ? `${layer}/${parts[2]}` : `${layer}/${parts[2]!.replace(/[-.].*$/, '')}`;
}

/** Why an import breaks the rule, or undefined when it is allowed. */
function violation(e: ImportEdge): string | undefined {
  const from = layerOf(e.from);
  if (from === 'entry') return undefined;
  const core = (CORE as readonly string[]).indexOf(from);
  if (e.to === undefined || !e.to.startsWith('src/')) {
    if (core >= 0) return `the core (${from}/) imports no package or platform module`;
    return undefined;
  }
  const to = layerOf(e.to);
  if (to === 'entry') return 'nothing inside src/ imports the package entry';
  if (DEFAULTS.get(e.from) === e.to) return undefined;
  const toCore = (CORE as readonly string[]).indexOf(to);
  if (core >= 0) {
    if (toCore < 0) return `the core (${from}/) imports no plug-in or runtime (${to}/)`;
    if (toCore > core) return `${from}/ may not import the higher layer ${to}/`;
    return undefined;
  }
  if ((PLUGINS as readonly string[]).includes(from)) {
    if (CONTRACTS.has(to) || unitOf(e.to) === unitOf(e.from)) return undefined;
    return `plug-in ${unitOf(e.from)} imports only api/, format/, state/ and itself, not ${unitOf(e.to)}`;
  }
  if (from === 'runtimes') {
    if (toCore >= 0 || unitOf(e.to) === unitOf(e.from)) return undefined;
    return `runtime ${unitOf(e.from)} imports only the core and itself, not ${unitOf(e.to)}`;
  }
  return `${e.from} lies in no layer (${from}/ is not one of ${[...CORE, ...PLUGINS, 'runtimes'].join(', ')})`;
}

const files = sourceFiles(root, 'src');
const edges = files.flatMap((f) => importsOf(root, f));

describe('layers (ARCHITECTURE.md)', () => {
  it('reads imports of every source file', () => {
    // Guards the reader itself: a regex that matched nothing would pass every rule below.
    expect(files.length).toBeGreaterThan(50);
    expect(edges.filter((e) => e.to?.startsWith('src/')).length).toBeGreaterThan(200);
  });

  it('every import runs down the layers', () => {
    const bad = edges.flatMap((e) => {
      const why = violation(e);
      return why === undefined ? [] : [`${e.from} imports '${e.specifier}': ${why}`];
    });
    expect(bad).toEqual([]);
  });

  it('no files import each other in a circle', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) if (e.to?.startsWith('src/')) (graph.get(e.from) ?? graph.set(e.from, new Set()).get(e.from)!).add(e.to);
    const found = cycles(files, graph).map((c) => c.join(' <-> '));
    expect(found.filter((c) => !PENDING_CYCLES.has(c))).toEqual([]);
    expect(
      [...PENDING_CYCLES].filter((c) => !found.includes(c)),
      'a pending cycle is gone: remove its exception',
    ).toEqual([]);
  });

  it('no layers or plug-ins import each other in a circle', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) {
      if (!e.to?.startsWith('src/') || layerOf(e.from) === 'entry') continue;
      const [a, b] = [unitOf(e.from), unitOf(e.to)];
      if (a !== b) (graph.get(a) ?? graph.set(a, new Set()).get(a)!).add(b);
    }
    expect(cycles(graph.keys(), graph).map((c) => c.join(' <-> '))).toEqual([]);
  });

  it('tsconfig.core.json compiles every core layer without DOM or Node types', () => {
    // `npm run typecheck` runs it; this pins that it keeps covering the core as layers are added.
    const config = JSON.parse(readFileSync(`${root}tsconfig.core.json`, 'utf8')) as { include: string[]; compilerOptions: { lib: string[]; types: string[] } };
    expect(config.compilerOptions).toMatchObject({ lib: ['ES2023'], types: [] });
    const coreFolders = new Set(files.filter((f) => (CORE as readonly string[]).includes(layerOf(f))).map((f) => f.split('/').slice(0, 2).join('/')));
    expect([...coreFolders].filter((d) => !config.include.includes(d))).toEqual([]);
  });
});
