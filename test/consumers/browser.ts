/**
 * The browser consumers: a Vite app built (`vite build`) from the installed package and a
 * page that loads eddy from static files (no bundler), both run in headless Chromium.
 * Pages report through the DOM: `data-result` / `data-error` on <body>, or the README
 * app's text.
 */
import { createServer, type Server } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright';
import { build, createLogger } from 'vite';
import { CHROMIUM_ARGS } from '../helpers/chromium-page.ts';

/** The README sources the Vite app is made of. */
export interface ViteSources {
  /** The README example as `main(console)` (readme.ts asMainFunction). */
  readonly main: string;
  readonly wordCount: string;
  readonly workerEntry: string;
  readonly app: string;
  /** The README's `html` block: the import map and the app's script tag. */
  readonly staticHtml: string;
}

/** What the pages showed. */
export interface BrowserResults {
  /** Vite's warnings while building. */
  readonly warnings: string[];
  /** What the README example logged. */
  readonly main: unknown;
  /** The README app's text (Web Workers + IndexedDB). */
  readonly app: string;
  /** The error of a job whose module is the page's entry chunk, run with the default worker entry. */
  readonly pageChunk: string;
  /** The static (no bundler) page's result: records collected from Web Workers. */
  readonly staticPage: string;
}

const REPORT = (expr: string) =>
  `${expr}.then((r) => { document.body.dataset.result = JSON.stringify(r); }, (e) => { document.body.dataset.error = String(e && e.message || e); });\n`;

const PAGE_CHUNK_JOB = `import { defineJob, StreamExecutionEnvironment, WorkerExecutor } from 'eddy';
import { webWorkers } from 'eddy/runtimes/web-workers';

document.title = 'a page that defines a job in its own chunk';
export const doubled = defineJob(import.meta.url, 'doubled', (env) => env.fromElements(1, 2, 3).map((x) => x * 2));
const env = StreamExecutionEnvironment.getExecutionEnvironment().setExecutor(new WorkerExecutor({ workers: 1, platform: webWorkers() }));
${REPORT('doubled.build(env, undefined).executeAndCollect()')}`;

const html = (script: string) =>
  `<!doctype html><html><head><meta charset="utf-8"></head><body><script type="module" src="${script}"></script></body></html>\n`;

/** Builds the Vite app under `<root>/vite`, writes the static page under `<root>/static`, and runs both in Chromium. */
export async function runViteApps(root: string, sources: ViteSources): Promise<BrowserResults> {
  const dir = join(root, 'vite');
  await mkdir(dir, { recursive: true });
  const files: Record<string, string> = {
    'word-count.ts': sources.wordCount,
    'eddy-worker.ts': sources.workerEntry,
    'app.ts': sources.app,
    'index.html': html('./app.ts'),
    'main.ts': sources.main,
    'main-page.ts': `import { main } from './main.ts';\nconst lines: unknown[] = [];\n${REPORT('main({ log: (...args: unknown[]) => lines.push(args) }).then(() => lines)')}`,
    'main.html': html('./main-page.ts'),
    'chunk.ts': PAGE_CHUNK_JOB,
    'chunk.html': html('./chunk.ts'),
  };
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);

  const warnings: string[] = [];
  const logger = createLogger('warn');
  // Vite reports plugins that were slow on this machine ([PLUGIN_TIMINGS]); that says how
  // busy the machine was, not whether eddy bundles cleanly, so it is not counted.
  const warn = (msg: string) => void (msg.includes('[PLUGIN_TIMINGS]') || warnings.push(msg));
  logger.warn = warn;
  logger.warnOnce = warn;
  await build({
    root: dir,
    configFile: false,
    customLogger: logger,
    logLevel: 'warn',
    // The README's Vite setting for module workers that split chunks.
    worker: { format: 'es' },
    build: {
      outDir: join(dir, 'dist'),
      emptyOutDir: true,
      rolldownOptions: { input: { index: join(dir, 'index.html'), main: join(dir, 'main.html'), chunk: join(dir, 'chunk.html') } },
    },
  });

  await writeStaticPage(root, sources.staticHtml);
  const vite = await serve(join(dir, 'dist'));
  const plain = await serve(root);
  const browser = await chromium.launch({ executablePath: process.env.EDDY_CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
  try {
    const page = await browser.newPage();
    // What the pages and their workers said, for a failure's message.
    const logs: string[] = [];
    page.on('console', (m) => void logs.push(`[console.${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => void logs.push(`[pageerror] ${e.message}`));
    page.on('worker', (w) => w.on('console', (m) => void logs.push(`[worker console] ${m.text()}`)));
    const waitFor = async (fn: () => boolean | undefined, what: string) => {
      try {
        await page.waitForFunction(fn, undefined, { timeout: 60_000 });
      } catch (e) {
        throw new Error(`${what}: ${(e as Error).message}\n${logs.join('\n')}`);
      }
    };
    const report = async (url: string): Promise<string> => {
      await page.goto(url);
      await waitFor(() => document.body.dataset.result !== undefined || document.body.dataset.error !== undefined, url);
      return page.evaluate(() => document.body.dataset.result ?? `error: ${document.body.dataset.error}`);
    };
    const main = JSON.parse(await report(`${vite}/main.html`));
    await page.goto(`${vite}/index.html`);
    await waitFor(() => document.body.textContent?.includes(': 333'), 'the README app');
    const app = (await page.textContent('body'))!.trim();
    const pageChunk = await report(`${vite}/chunk.html`);
    const staticPage = await report(`${plain}/static/index.html`);
    return { warnings, main, app, pageChunk, staticPage };
  } finally {
    await browser.close();
    vite.close();
    plain.close();
  }
}

/** A page without a bundler: the README's import map and script, a path import in the job module (workers see no import map). */
async function writeStaticPage(root: string, readmeHtml: string): Promise<void> {
  const dir = join(root, 'static');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'index.html'), `<!doctype html><html><head><meta charset="utf-8">\n${readmeHtml}</head><body></body></html>\n`);
  await writeFile(
    join(dir, 'job.js'),
    "import { defineJob } from '/node_modules/eddy/dist/src/index.js';\nexport const spread = defineJob(import.meta.url, 'spread', (env, n) => env.fromGenerator((i) => i, { count: n }).keyBy((i) => i % 7).map((i) => i));\n",
  );
  await writeFile(
    join(dir, 'app.js'),
    `import { StreamExecutionEnvironment, WorkerExecutor } from 'eddy';\nimport { webWorkers } from 'eddy/runtimes/web-workers';\nimport { spread } from './job.js';\nconst env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2).setExecutor(new WorkerExecutor({ workers: 2, platform: webWorkers() }));\n${REPORT('spread.build(env, 3000).executeAndCollect().then((r) => String(r.length))')}`,
  );
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.map': 'application/json',
  '.css': 'text/css',
};

/** A static file server on a loopback port (a secure context: IndexedDB, OPFS); resolves to its origin. */
async function serve(dir: string): Promise<string & { close(): void }> {
  const server: Server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    try {
      const body = await readFile(join(dir, path));
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(origin, { close: () => server.close() }) as never;
}
