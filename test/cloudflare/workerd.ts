/**
 * Runs a Worker in real workerd: esbuild bundles it as wrangler would (the `workerd`,
 * `worker`, `browser` conditions; `node:` imports external, as no Worker reaches them),
 * miniflare starts it with the job's Durable Object namespace bound as `EDDY_JOB`
 * (SQLite-backed) and an R2 bucket `SAVEPOINTS`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';

/** Bundles a Worker entry into one ES module. */
export async function bundleWorker(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    external: ['node:*', 'cloudflare:*'],
    target: 'es2022',
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

/** A directory for miniflare's persisted storage, removed by `dispose`. */
export function persistDir(): { path: string; dispose(): void } {
  const path = mkdtempSync(join(tmpdir(), 'eddy-workerd-'));
  return { path, dispose: () => rmSync(path, { recursive: true, force: true }) };
}

/** Starts `script` in workerd; `persist` keeps Durable Object and R2 storage across instances. */
export async function startWorkerd(script: string, bindings: Record<string, string>, persist?: string): Promise<Miniflare> {
  const mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: '2026-07-01',
    durableObjects: { EDDY_JOB: { className: 'EddyJobObject', useSQLite: true } },
    r2Buckets: ['SAVEPOINTS'],
    bindings,
    ...(persist !== undefined ? { durableObjectsPersist: join(persist, 'do'), r2Persist: join(persist, 'r2') } : {}),
  });
  await mf.ready;
  return mf;
}

/** What the job's Worker answers (a batch's result, a savepoint's path, or an error). */
export interface Answer {
  readonly id: string;
  readonly output: unknown[];
  readonly sideOutputs: Record<string, unknown[]>;
  readonly replayed: number[];
  readonly path?: string;
  readonly error?: { code: string; message: string };
}

/** POSTs JSON to the Worker and returns the status and parsed body. */
export async function post(mf: Miniflare, path: string, body: unknown): Promise<{ status: number; json: Answer }> {
  const response = await mf.dispatchFetch(`http://localhost${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  const text = await response.text();
  return { status: response.status, json: JSON.parse(text) };
}
