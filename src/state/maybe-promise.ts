/**
 * Backends answer synchronously where they can (`MaybePromise`), so the layers above
 * stay synchronous on the hot path and wait only when a backend really has to.
 */
import type { MaybePromise } from './backend.ts';

/** Whether a backend's answer has to be waited for. */
export function isPromise<T>(v: MaybePromise<T>): v is Promise<T> {
  return v instanceof Promise;
}

/**
 * Applies `f` now, or when `v` resolves. (Not named `then`: a module exporting `then` is
 * itself a thenable, and `await import()` of it would call it.)
 */
export function andThen<T, R>(v: MaybePromise<T>, f: (t: T) => MaybePromise<R>): MaybePromise<R> {
  return isPromise(v) ? v.then(f) : f(v);
}
