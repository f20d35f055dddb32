/**
 * size: minified + gzipped bytes of what a browser app bundles from eddy, for the
 * in-memory (heap) backend, IndexedDB and SQLite. Each app is a small keyed job using
 * that backend, bundled by esbuild from the build (`dist/`, reached through package.json
 * `exports`, as an app's bundler reaches it) with minify and code splitting, for the
 * browser; every output chunk is gzipped (zlib, default level). `initialBytes` is what
 * loads with the page (the entry and the chunks it imports statically), `lazyBytes`
 * what loads on first use (dynamic imports: SQLite-WASM's JS). The WASM file is apart.
 * Budget: the core with the in-memory backend ≤ 40 KB gzipped.
 *
 * `firstRecordMs`: the in-memory app, its bundle served from a loopback server, in
 * headless Chromium: time from navigation start to the first record reaching the keyed
 * function (median of `runs` fresh pages).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile, type Plugin } from 'esbuild';
import { publicEntries, ROOT } from '../scripts/entries.mjs';
import { median, report, round } from './common.ts';
import { CHROMIUM_ARGS } from '../test/helpers/chromium-page.ts';

const BUDGET = 40 * 1024;

const job = (backendImport: string, backend: string) => `
import { KeyedProcessFunction, StreamExecutionEnvironment, ValueStateDescriptor } from 'eddy';
${backendImport}
class Count extends KeyedProcessFunction {
  open(ctx) { this.count = ctx.getState(new ValueStateDescriptor('count')); }
  async processElement(word, ctx, out) {
    globalThis.firstRecordAt ??= performance.now();
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

async function measure(source: string, outdir?: string): Promise<Sizes> {
  const out = await build({
    stdin: { contents: source, resolveDir: ROOT, loader: 'js', sourcefile: 'app.js' },
    bundle: true,
    minify: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    outdir: outdir ?? join(ROOT, '.size-out'),
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [eddyFromExports],
    absWorkingDir: ROOT,
  });
  if (outdir) for (const f of out.outputFiles) writeFileSync(f.path, f.contents);
  // Metafile paths are relative to absWorkingDir.
  const gz = new Map(out.outputFiles.map((f) => [relative(ROOT, f.path), gzipSync(f.contents).length]));
  const meta: Metafile = out.metafile;
  const entry = Object.keys(meta.outputs).find((o) => meta.outputs[o]!.entryPoint !== undefined)!;
  const initial = new Set<string>();
  const visit = (o: string) => {
    if (initial.has(o)) return;
    initial.add(o);
    for (const i of meta.outputs[o]!.imports) if (i.kind === 'import-statement') visit(i.path);
  };
  visit(entry);
  if (!gz.has(entry)) throw new Error(`size: the entry chunk ${entry} is not among the outputs`);
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
  const topSources = Object.fromEntries(
    Object.entries(bySource)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 6),
  );
  return { initialBytes, lazyBytes, topSources };
}

/** Runs the bench and prints its JSON line (sizes are measured once: they do not vary; the first record is timed `runs` times). */
export async function size(runs: number): Promise<void> {
  const built = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`size: the build failed\n${built.stdout}${built.stderr}`);
  const sizes: Record<string, Sizes> = {};
  const served = mkdtempSync(join(tmpdir(), 'eddy-size-'));
  for (const [name, source] of Object.entries(APPS)) sizes[name] = await measure(source, name === 'memory' ? served : undefined);
  const firstRecordMs = await timeToFirstRecord(served, runs).finally(() => rmSync(served, { recursive: true, force: true }));
  const wasm = readFileSync(fileURLToPath(import.meta.resolve('@sqlite.org/sqlite-wasm').replace(/index\.mjs$/, 'sqlite3.wasm')));
  const memory = sizes.memory!;
  report({
    bench: 'size',
    unit: 'bytes, minified + gzipped',
    memory,
    firstRecordMs: round(firstRecordMs, 1),
    indexeddb: { initialBytes: sizes.indexeddb!.initialBytes, lazyBytes: sizes.indexeddb!.lazyBytes },
    sqlite: { initialBytes: sizes.sqlite!.initialBytes, lazyBytes: sizes.sqlite!.lazyBytes, wasmBytes: wasm.length, wasmGzipBytes: gzipSync(wasm).length },
    budgetBytes: BUDGET,
    pass: memory.initialBytes <= BUDGET,
  });
}

/** Serves `dir` (the memory app's chunks, `stdin.js` its entry) and times the first record in fresh Chromium pages. */
async function timeToFirstRecord(dir: string, runs: number): Promise<number> {
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><script type="module" src="./stdin.js"></script>');
  const server = createServer((req, res) => {
    try {
      const path = join(dir, new URL(req.url ?? '/', 'http://x').pathname);
      const body = readFileSync(path);
      res.writeHead(200, { 'content-type': path.endsWith('.html') ? 'text/html' : 'text/javascript' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { chromium } = await import('playwright');
  const browser = await chromium.launch({ executablePath: process.env.EDDY_CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
  try {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/index.html`);
      await page.waitForFunction(() => (globalThis as { firstRecordAt?: number }).firstRecordAt !== undefined, undefined, { timeout: 30_000 });
      times.push(await page.evaluate(() => (globalThis as { firstRecordAt?: number }).firstRecordAt!));
      await page.close();
    }
    return median(times);
  } finally {
    await browser.close();
    server.close();
  }
}
