import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';

/**
 * Two projects: `node` runs every test/**\/*.test.ts except the browser ones; `chromium`
 * runs test/browser/**\/*.test.ts in real headless Chromium. Playwright cannot download
 * its own browser on our machines, so it drives an installed one: Debian's
 * /usr/bin/chromium by default, or the executable named by EDDY_CHROMIUM (e.g. your
 * own Chrome).
 */
const chromium = process.env.EDDY_CHROMIUM ?? '/usr/bin/chromium';

export default defineConfig({
  // sqlite-wasm finds its .wasm file next to its own module (import.meta.url): pre-bundling would move it away.
  optimizeDeps: { exclude: ['@sqlite.org/sqlite-wasm'] },
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: { name: 'node', include: ['test/**/*.test.ts'], exclude: ['test/browser/**', 'test/consumers/**'] },
      },
      {
        // The packed package in fresh projects (test/consumers): one pack and install for all of them.
        extends: true,
        test: { name: 'consumers', include: ['test/consumers/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 600_000 },
      },
      {
        extends: true,
        test: {
          name: 'chromium',
          include: ['test/browser/**/*.test.ts'],
          // A moto_server for the S3 tests (a page cannot start one).
          globalSetup: ['test/helpers/moto-global-setup.ts'],
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: {
                executablePath: chromium,
                args: [
                  '--no-sandbox',
                  '--disable-gpu',
                  '--disable-quic',
                  '--no-first-run',
                  '--disable-background-networking',
                  '--disable-component-update',
                  '--disable-sync',
                ],
              },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
