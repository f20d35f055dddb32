/**
 * A real Chromium page serving eddy's sources through Vite, driven by Playwright from
 * Node — for what vitest's browser mode cannot do (reload its own page) and for the
 * browser benchmarks. Chromium is the installed one (EDDY_CHROMIUM or Debian's
 * /usr/bin/chromium) with the arguments of vitest.config.ts.
 */
import { realpathSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright';
import { createServer, type ViteDevServer } from 'vite';

/** The launch arguments vitest.config.ts uses for the chromium project. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A Vite server on an ephemeral loopback port and a Chromium with one page. */
export interface ChromiumSession {
  readonly browser: Browser;
  readonly page: Page;
  /** `http://127.0.0.1:<port>` — a secure context (loopback), so OPFS and Web Locks work. */
  readonly origin: string;
  close(): Promise<void>;
}

/** Starts Vite with the repository as root and opens a page; `close()` stops both. `extraArgs` go to Chromium after {@link CHROMIUM_ARGS} (e.g. a heap limit). */
export async function openChromium(extraArgs: readonly string[] = []): Promise<ChromiumSession> {
  const root = new URL('../..', import.meta.url).pathname;
  const server: ViteDevServer = await createServer({
    root,
    configFile: false,
    logLevel: 'error',
    // node_modules may be a symlink out of the tree (a shared install): allow where it really is, for sqlite3.wasm.
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, fs: { allow: [root, realpathSync(`${root}node_modules`)] } },
    optimizeDeps: { noDiscovery: true, include: [] },
  });
  await server.listen();
  const { port } = server.httpServer!.address() as AddressInfo;
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: process.env.EDDY_CHROMIUM ?? '/usr/bin/chromium',
      args: [...CHROMIUM_ARGS, ...extraArgs],
      headless: true,
    });
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error('[page error]', e));
    const b = browser;
    return {
      browser: b,
      page,
      origin: `http://127.0.0.1:${port}`,
      async close() {
        await b.close().catch(() => undefined);
        await server.close();
      },
    };
  } catch (e) {
    await browser?.close().catch(() => undefined);
    await server.close();
    throw e;
  }
}
