/**
 * Registers suites written for vitest as `deno test` tests, one Deno test per suite case
 * (named `describe > … > it` as vitest names it), run with the suite's hooks by the
 * portable runner. `deno test` maps `vitest` to `./vitest-shim.ts` with
 * `--import-map=test/portable/deno-import-map.json`.
 */
import { collectCases, collectFile, type PortableCase, runCase } from './vitest-shim.ts';

interface DenoTestOptions {
  name: string;
  ignore?: boolean;
  sanitizeOps?: boolean;
  sanitizeResources?: boolean;
  fn: () => Promise<void>;
}
const Deno = (globalThis as unknown as { Deno: { test(options: DenoTestOptions): void } }).Deno;

/** Collects what `define` declares with `describe`/`it` and registers each case as a Deno test. */
export function denoTests(define: () => void): void {
  register(collectCases(define));
}

/** Registers each case of a vitest test file as a Deno test: `await denoTestFile(() => import('./x.test.ts'))`. */
export async function denoTestFile(load: () => Promise<unknown>): Promise<void> {
  register(await collectFile(load));
}

function register(cases: readonly PortableCase[]): void {
  for (const c of cases) {
    Deno.test({
      // A suite's skipIf names usually say "(skipped: why)" already.
      name: c.skip === undefined || c.name.includes('(skipped') ? c.name : `${c.name} (skipped: ${c.skip})`,
      ignore: c.skip !== undefined,
      // vitest checks neither; the TTL suite's jobs leave timers that a later case clears.
      sanitizeOps: false,
      sanitizeResources: false,
      fn: async () => {
        const r = await runCase(c);
        if (r.status === 'failed') throw new Error(`${r.name}\n${r.error}`);
        // Deno cannot mark a running test as ignored: a case that skipped itself says so here.
        if (r.status === 'skipped') console.log(`skipped: ${r.name}: ${r.error}`);
      },
    });
  }
}
