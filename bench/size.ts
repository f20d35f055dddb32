/**
 * size: minified + gzipped bytes of what a browser app bundles from eddy, for the
 * in-memory (heap) backend, IndexedDB and SQLite. Each app is a small keyed job using
 * that backend, bundled by esbuild from the build (`dist/`, reached through package.json
 * `exports`, as an app's bundler reaches it) with minify and code splitting, for the
 * browser; every output chunk is gzipped (zlib, default level). `initialBytes` is what
 * loads with the page (the entry and the chunks it imports statically), `lazyBytes`
 * what loads on first use (dynamic imports: SQLite-WASM's JS). The WASM file is apart.
 * Budget: the core with the in-memory backend ≤ 40 KB gzipped.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile, type Plugin } from 'esbuild';
import { publicEntries, ROOT } from '../scripts/entries.mjs';
import { report } from './common.ts';

const BUDGET = 40 * 1024;

const job = (backendImport: string, backend: string) => `
import { KeyedProcessFunction, StreamExecutionEnvironment, ValueStateDescriptor } from 'eddy';
${backendImport}
class Count extends KeyedProcessFunction {
  open(ctx) { this.count = ctx.getState(new ValueStateDescriptor('count')); }
  async processElement(word, ctx, out) {
    const n = ((await this.count.value()) ?? 0) + 1;
    await this.count.update(n);
    out.collect(word + ': ' + n);
  }
}
const env = StreamExecutionEnvironment.getExecutionEnvironment();
${backend}
env.fromElements('a', 'b', 'a').keyBy((w) => w).process(new Count()).executeAndCollect().then((r) => console.log(r));
`;

const APPS: Record<string, string> = {
  memory: job('', ''),
  indexeddb: job("import { IndexedDbStateBackend } from 'eddy';", 'env.setStateBackend(new IndexedDbStateBackend());'),
  sqlite: job("import { SqliteStateBackend } from 'eddy/sqlite';", 'env.setStateBackend(new SqliteStateBackend());'),
};

/** Resolves `eddy` and `eddy/…` to the built files named by package.json exports. */
const eddyFromExports: Plugin = {
  name: 'eddy-exports',
  setup(b) {
    const map = new Map(publicEntries().map((e) => [e.name, join(ROOT, e.import)]));
    b.onResolve({ filter: /^eddy(\/|$)/ }, (args) => {
      const path = map.get(args.path);
      return path ? { path } : { errors: [{ text: `${args.path} is not in package.json exports` }] };
    });
  },
};

interface Sizes {
  initialBytes: number;
  lazyBytes: number;
  /** The largest contributors to the initial JS (minified, before gzip), by source directory. */
  topSources?: Record<string, number>;
}

async function measure(source: string): Promise<Sizes> {
  const out = await build({
    stdin: { contents: source, resolveDir: ROOT, loader: 'js', sourcefile: 'app.js' },
    bundle: true,
    minify: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    outdir: join(ROOT, '.size-out'),
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [eddyFromExports],
  });
  const gz = new Map(out.outputFiles.map((f) => [f.path.slice(ROOT.length), gzipSync(f.contents).length]));
  const meta: Metafile = out.metafile;
  const entry = Object.keys(meta.outputs).find((o) => meta.outputs[o]!.entryPoint !== undefined)!;
  const initial = new Set<string>();
  const visit = (o: string) => {
    if (initial.has(o)) return;
    initial.add(o);
    for (const i of meta.outputs[o]!.imports) if (i.kind === 'import-statement') visit(i.path);
  };
  visit(entry);
  let initialBytes = 0;
  let lazyBytes = 0;
  for (const [path, bytes] of gz) {
    if (!path.endsWith('.js')) continue;
    if (initial.has(path)) initialBytes += bytes;
    else lazyBytes += bytes;
  }
  const bySource: Record<string, number> = {};
  for (const o of initial) {
    for (const [input, { bytesInOutput }] of Object.entries(meta.outputs[o]!.inputs)) {
      const dir = dirname(input.replace(/^dist\//, '')).replace(/^src\/core\/.*$/, (d) => d.split('/').slice(0, 3).join('/'));
      bySource[dir] = (bySource[dir] ?? 0) + bytesInOutput;
    }
  }
  const topSources = Object.fromEntries(Object.entries(bySource).sort((a, b) => b[1] - a[1]).slice(0, 6));
  return { initialBytes, lazyBytes, topSources };
}

/** Runs the bench and prints its JSON line (the sizes do not vary between runs: measured once). */
export async function size(_runs: number): Promise<void> {
  const built = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`size: the build failed\n${built.stdout}${built.stderr}`);
  const sizes: Record<string, Sizes> = {};
  for (const [name, source] of Object.entries(APPS)) sizes[name] = await measure(source);
  const wasm = readFileSync(fileURLToPath(import.meta.resolve('@sqlite.org/sqlite-wasm').replace(/index\.mjs$/, 'sqlite3.wasm')));
  const memory = sizes.memory!;
  report({
    bench: 'size',
    unit: 'bytes, minified + gzipped',
    memory,
    indexeddb: { initialBytes: sizes.indexeddb!.initialBytes, lazyBytes: sizes.indexeddb!.lazyBytes },
    sqlite: { initialBytes: sizes.sqlite!.initialBytes, lazyBytes: sizes.sqlite!.lazyBytes, wasmBytes: wasm.length, wasmGzipBytes: gzipSync(wasm).length },
    budgetBytes: BUDGET,
    pass: memory.initialBytes <= BUDGET,
  });
}
