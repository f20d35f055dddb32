/**
 * Steps that run synchronously while every step answers at once and continue from the
 * first Promise on: built-in operators take one code path for resident and non-resident
 * state, so both take the same decisions in the same order, and the resident case costs
 * no Promise (and no microtask turn).
 */
import type { Awaitable } from '../../api/functions.ts';
import { isThenable } from './base.ts';

/** Applies `f` to `v` now, or once `v` settles. */
export function andThen<T, R>(v: T | PromiseLike<T>, f: (t: T) => Awaitable<R>): Awaitable<R> {
  return isThenable(v) ? Promise.resolve(v).then(f) : f(v as T);
}

/**
 * Runs `step(i)` for `i` from `from` up to `n` in order; `undefined` when every step
 * answered at once, else a Promise of the rest from the first step that did not.
 */
export function forEachStep(n: number, step: (i: number) => unknown, from = 0): Promise<void> | undefined {
  for (let i = from; i < n; i++) {
    const r = step(i);
    if (isThenable(r)) return Promise.resolve(r).then(() => forEachStep(n, step, i + 1));
  }
  return undefined;
}
