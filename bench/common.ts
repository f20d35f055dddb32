/**
 * Shared helpers for the benchmarks: timing with warm-up, median/best, GC, and the one
 * JSON line each bench prints. Benches never fail the process for a missed floor.
 */

import type { StateBackend } from '../src/state/backend.ts';

/** Forces a full GC when node runs with --expose-gc (npm run bench does). */
export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g !== undefined) {
    g();
    g();
  }
}

export function hasGc(): boolean {
  return typeof (globalThis as { gc?: unknown }).gc === 'function';
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Round to `digits` significant-ish decimals for readable JSON. */
export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export interface Side {
  name: string;
  /** Runs once; the returned promise resolves when the work (incl. result checks) is done. */
  run: () => Promise<void> | void;
}

export interface TimedSide {
  name: string;
  /** Wall-clock ms of each measured run (warm-up excluded). */
  ms: number[];
  medianMs: number;
  bestMs: number;
}

/**
 * Warm-up runs per side for the 1M-record engine jobs measured against a hand loop:
 * V8 needs about three of them before its code for the job stops changing (more when two
 * kinds of job alternate, since each changes what the shared code has seen); with one, the
 * first measured runs were still compiling. The hand loop and RxJS settle in one.
 */
export const ENGINE_WARMUPS = 3;

/**
 * Times several sides interleaved (A B A B ...) so machine noise hits both alike.
 * `warmups` runs per side first (interleaved too), then `runs` measured runs each; GC before every run.
 */
export async function timeInterleaved(sides: readonly Side[], runs: number, warmups = 1): Promise<TimedSide[]> {
  for (let w = 0; w < warmups; w++) {
    for (const s of sides) {
      gc();
      await s.run();
    }
  }
  const ms: number[][] = sides.map(() => []);
  for (let r = 0; r < runs; r++) {
    for (let i = 0; i < sides.length; i++) {
      gc();
      const t0 = performance.now();
      await sides[i]!.run();
      ms[i]!.push(performance.now() - t0);
    }
  }
  return sides.map((s, i) => ({ name: s.name, ms: ms[i]!.map((x) => round(x, 1)), medianMs: round(median(ms[i]!), 1), bestMs: round(Math.min(...ms[i]!), 1) }));
}

/** Prints one result line: `{"bench":...}`. */
export function report(result: { bench: string } & Record<string, unknown>): void {
  console.log(JSON.stringify(result));
}

/** The events of keyed-count and keyed-count-rxjs: `count` events over `keys` keys, `'k' + (i % keys)`. */
export interface Ev {
  k: string;
}

export function generateEvents(count: number, keys: number): Ev[] {
  const events: Ev[] = new Array(count);
  for (let i = 0; i < count; i++) events[i] = { k: 'k' + (i % keys) };
  return events;
}

/** Throws unless `out` holds exactly `keys` distinct keys 'k0'..'k{keys-1}', each with `perKey`. */
export function verifyCounts(out: ReadonlyArray<readonly [string, number]>, keys: number, perKey: number, who: string): void {
  if (out.length !== keys) throw new Error(`${who}: expected ${keys} outputs, got ${out.length}`);
  const seen = new Set<string>();
  for (const [k, c] of out) {
    if (c !== perKey) throw new Error(`${who}: key ${k} counted ${c}, expected ${perKey}`);
    seen.add(k);
  }
  if (seen.size !== keys) throw new Error(`${who}: expected ${keys} distinct keys, got ${seen.size}`);
  for (let i = 0; i < keys; i++) if (!seen.has('k' + i)) throw new Error(`${who}: key k${i} missing`);
}

/** A deterministic PRNG (mulberry32), so that "random keys" are the same on every run; shared with the tests. */
export { prng } from '../test/helpers/prng.ts';

/**
 * `backend` with each keyed backend flushed before it is disposed: a job on it ends with
 * every value written to its store, as a hand-written baseline that writes everything does.
 */
export function flushedOnDispose(backend: StateBackend): StateBackend {
  return {
    name: backend.name,
    async createKeyedStateBackend(options) {
      const keyed = await backend.createKeyedStateBackend(options);
      const dispose = keyed.dispose.bind(keyed);
      keyed.dispose = async () => {
        await keyed.flush?.();
        await dispose();
      };
      return keyed;
    },
  };
}
