/**
 * The built demo (demo/), served by a plain static file server (no special headers: what
 * any static host does) and opened in headless Chromium through Playwright. Shared by the
 * demo's end-to-end test and `npm run bench -- demo`.
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright';
import { build, createLogger } from 'vite';
import { CHROMIUM_ARGS } from '../helpers/chromium-page.ts';

const CONFIG = fileURLToPath(new URL('../../demo/vite.config.ts', import.meta.url));

/** Builds the demo into `outDir` (as `npm run build:demo` does into demo/dist). */
export async function buildDemo(outDir: string): Promise<void> {
  const logger = createLogger('error');
  await build({ configFile: CONFIG, customLogger: logger, logLevel: 'error', build: { outDir, emptyOutDir: true } });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.json': 'application/json',
};

/** Serves `dir` on a loopback port (a secure context, so OPFS works); resolves to its origin and a close. */
export async function serveStatic(dir: string): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    let path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (path.endsWith('/')) path += 'index.html';
    try {
      const body = await readFile(join(dir, path));
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A Chromium page on the served demo, with everything the page and its workers said. */
export interface DemoSession {
  readonly browser: Browser;
  readonly page: Page;
  readonly origin: string;
  /** Console errors and uncaught errors of the page and its workers. */
  readonly errors: string[];
  /** Everything logged, for a failure's message. */
  readonly logs: string[];
  close(): Promise<void>;
}

/** Starts Chromium on `origin` (the demo's index.html is not opened yet). */
export async function openBrowser(origin: string): Promise<DemoSession> {
  const browser = await chromium.launch({ executablePath: process.env.EDDY_CHROMIUM ?? '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  const logs: string[] = [];
  page.on('console', (m) => {
    logs.push(`[console.${m.type()}] ${m.text()}`);
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => {
    logs.push(`[pageerror] ${e.message}`);
    errors.push(e.message);
  });
  page.on('worker', (w) =>
    w.on('console', (m) => {
      logs.push(`[worker console.${m.type()}] ${m.text()}`);
      if (m.type() === 'error') errors.push(`[worker] ${m.text()}`);
    }),
  );
  return { browser, page, origin, errors, logs, close: () => browser.close() };
}
