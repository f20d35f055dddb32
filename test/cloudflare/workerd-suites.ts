/**
 * Runs suites written for vitest inside real workerd (miniflare, pinned): esbuild bundles
 * worker/conformance-worker.ts with `vitest` aliased to the portable runner
 * (test/portable/vitest-shim.ts), and the Worker runs one suite per request, unchanged, in a
 * Durable Object (SQLite-backed, as a Durable Object state backend needs) with an R2 bucket
 * bound as `BUCKET`. Each suite's results come back per case and become vitest assertions
 * that name the failed cases.
 */
import { SourceMap } from 'node:module';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { expect } from 'vitest';
import type { CaseResult } from '../portable/vitest-shim.ts';

const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

/** A running workerd with the conformance Worker. */
export interface WorkerdSuites {
  /**
   * Runs `suite` on `target` (a name of worker/targets.ts) in workerd and asserts that no case
   * failed or skipped, every declared case ran, and at least `minCases` were declared.
   */
  run(suite: string, target: string, minCases?: number): Promise<void>;
  dispose(): Promise<void>;
}

/** Bundles the conformance Worker and starts it in workerd. */
export async function startWorkerdSuites(): Promise<WorkerdSuites> {
  const out = await build({
    entryPoints: [path('./worker/conformance-worker.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    alias: { vitest: path('../portable/vitest-shim.ts') },
    sourcemap: 'external',
    outfile: path('./worker/conformance-worker.bundle.js'),
    logLevel: 'silent',
  });
  const script = out.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
  const map = new SourceMap(JSON.parse(out.outputFiles.find((f) => f.path.endsWith('.map'))!.text));
  const root = path('../..');
  // workerd names the bundle `script-0` in stack traces; point failures at the test and source files instead.
  const mapped = (text: string) =>
    text.replace(/script-0:(\d+):(\d+)/g, (frame, line: string, column: string) => {
      const entry = map.findEntry(Number(line) - 1, Number(column) - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number };
      if (entry.originalSource === undefined) return frame;
      const source = entry.originalSource.startsWith('file:') ? fileURLToPath(entry.originalSource) : path(`./worker/${entry.originalSource}`);
      return `${relative(root, source)}:${entry.originalLine! + 1}:${entry.originalColumn! + 1}`;
    });
  const mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: '2026-07-01',
    durableObjects: { CONFORMANCE: { className: 'ConformanceObject', useSQLite: true } },
    r2Buckets: ['BUCKET'],
  });
  await mf.ready;
  return {
    async run(suite, target, minCases = 10) {
      const response = await mf.dispatchFetch(`http://localhost/run?suite=${suite}&target=${encodeURIComponent(target)}`);
      expect(response.status, await response.clone().text()).toBe(200);
      const { declared, results } = (await response.json()) as { declared: number; results: CaseResult[] };
      const failed = results.filter((r) => r.status === 'failed').map((r) => `${r.name}\n    ${mapped(r.error ?? '').replaceAll('\n', '\n    ')}`);
      expect(failed, `failed in workerd:\n${failed.join('\n')}`).toEqual([]);
      expect(results.length, 'every declared case ran').toBe(declared);
      expect(declared, 'the suite declared its cases').toBeGreaterThanOrEqual(minCases);
      // A case that skips says why (it.skipIf in its name, or its note); none is expected in workerd.
      expect(results.filter((r) => r.status === 'skipped').map((r) => `${r.name}: ${r.error}`)).toEqual([]);
    },
    dispose: () => mf.dispose(),
  };
}
