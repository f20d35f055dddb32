/**
 * The conformance suites inside real workerd (miniflare, pinned): esbuild bundles
 * test/cloudflare/worker/conformance-worker.ts with `vitest` aliased to the portable runner,
 * and the Worker runs each suite, unchanged, in a Durable Object — the state-backend and TTL
 * suites on every backend of worker/targets.ts, the checkpoint-storage suite on every storage
 * there (R2 through miniflare's real R2 binding). One vitest test per suite and target; a
 * failure lists the failed cases by name with their errors.
 */
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseResult } from '../portable/vitest-shim.ts';
import { CHECKPOINT_STORAGES, STATE_BACKENDS } from './worker/targets.ts';

const path = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
let mf: Miniflare | undefined;

beforeAll(async () => {
  const out = await build({
    entryPoints: [path('./worker/conformance-worker.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    target: 'es2022',
    alias: { vitest: path('../portable/vitest-shim.ts') },
    logLevel: 'silent',
  });
  mf = new Miniflare({
    modules: true,
    script: out.outputFiles[0]!.text,
    compatibilityDate: '2026-07-01',
    durableObjects: { CONFORMANCE: { className: 'ConformanceObject', useSQLite: true } },
    r2Buckets: ['BUCKET'],
  });
  await mf.ready;
}, 120_000);

afterAll(() => mf?.dispose());

async function runInWorkerd(suite: string, target: string): Promise<void> {
  const response = await mf!.dispatchFetch(`http://localhost/run?suite=${suite}&target=${encodeURIComponent(target)}`);
  expect(response.status, await response.clone().text()).toBe(200);
  const { declared, results } = (await response.json()) as { declared: number; results: CaseResult[] };
  const failed = results.filter((r) => r.status === 'failed').map((r) => `${r.name}\n    ${r.error?.replaceAll('\n', '\n    ')}`);
  expect(failed, `failed in workerd:\n${failed.join('\n')}`).toEqual([]);
  expect(results.length, 'every declared case ran').toBe(declared);
  expect(declared, 'the suite declared its cases').toBeGreaterThan(10);
  // A case that skipped says why in its name (it.skipIf) or its note; none is expected here.
  expect(results.filter((r) => r.status === 'skipped').map((r) => `${r.name}: ${r.error}`)).toEqual([]);
}

describe('conformance suites in workerd', () => {
  for (const target of Object.keys(STATE_BACKENDS)) {
    it(`state-backend suite on ${target}`, () => runInWorkerd('state-backend', target), 120_000);
    it(`TTL suite on ${target}`, () => runInWorkerd('ttl', target), 120_000);
  }
  for (const target of Object.keys(CHECKPOINT_STORAGES)) {
    it(`checkpoint-storage suite on ${target}`, () => runInWorkerd('checkpoint-storage', target), 120_000);
  }
});
