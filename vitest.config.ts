import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { playwright } from '@vitest/browser-playwright';

/**
 * Two projects: `node` runs every test/**\/*.test.ts except the browser ones; `chromium`
 * runs test/browser/**\/*.test.ts in real headless Chromium. Playwright cannot download
 * its own browser on our machines, so it drives an installed one: Debian's
 * /usr/bin/chromium by default, or the executable named by EDDY_CHROMIUM (e.g. your
 * own Chrome).
 */
const chromium = process.env.EDDY_CHROMIUM ?? '/usr/bin/chromium';

/**
 * The longest files (measured; about a third of the suite's time), started first so that no
 * long file starts last and runs alone at the end. Order changes wall time only, never a
 * result: every file still runs in its own worker. A file missing here just starts later.
 */
const LONGEST_FIRST = [
  'test/consumers/consumers.test.ts',
  'test/checkpoint/exactly-once.test.ts',
  'test/storages/s3.test.ts',
  'test/chaos/chaos.test.ts',
  'test/demo/demo.test.ts',
  'test/workers/failure.test.ts',
  'test/cloudflare/savepoint.test.ts',
  'test/cloudflare/hosted-job.test.ts',
  'test/windows/windows-recovery.test.ts',
  'test/cloudflare/r2.test.ts',
  'test/cloudflare/state-backends.test.ts',
  'test/backends/sqlite.test.ts',
  'test/cross-runtime/savepoint-portability.test.ts',
];

/**
 * Vitest's own order (files that failed or took longest in the local cache first, else the
 * largest) with LONGEST_FIRST ahead of it: a clean clone (CI) has no cache.
 */
class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((path) => spec.moduleId.endsWith(`/${path}`));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    return sorted
      .map((spec, i) => ({ spec, i, rank: rank(spec) }))
      .sort((a, b) => a.rank - b.rank || a.i - b.i)
      .map((e) => e.spec);
  }
}

export default defineConfig({
  // sqlite-wasm finds its .wasm file next to its own module (import.meta.url): pre-bundling would move it away.
  optimizeDeps: { exclude: ['@sqlite.org/sqlite-wasm'] },
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Vitest's default on a 2-core machine is one worker (cores - 1), which leaves a core idle
    // while a file waits on workerd, Chromium, a child process or a timer. Two files at a time
    // (and the Chromium project's page beside them) keep both cores busy. EDDY_TEST_WORKERS
    // overrides it (e.g. 1 to run files one at a time when chasing a timing problem).
    maxWorkers: Number(process.env.EDDY_TEST_WORKERS ?? 2),
    sequence: { sequencer: LongestFirstSequencer },
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
            // One page at a time, as before maxWorkers went to 2: the pages share one origin's
            // IndexedDB and OPFS, and the node project's two workers keep the cores busy.
            fileParallelism: false,
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
