/**
 * What the state-backend and TTL conformance suites share: a fresh backend per test, keyed
 * backends opened from it (disposed after the test), and helpers that need no backend.
 *
 * Everything here reaches state only through the public contract (`StateBackend` →
 * `KeyedStateBackend`, the user-facing states of `KeyedStateStore`, the canonical snapshot
 * format) and imports nothing platform-specific, so the suites run unchanged in Node, a
 * browser tab or a Web Worker.
 */
import { afterEach, beforeEach, expect } from 'vitest';
import type { Clock } from '../../src/api/clock.ts';
import { ReducingStateDescriptor } from '../../src/api/descriptors.ts';
import { EddyError, type EddyErrorCode } from '../../src/api/errors.ts';
import type { AggregateFunction } from '../../src/api/state.ts';
import { canonicalKeyBytes, type Key } from '../../src/format/key-bytes.ts';
import { keyGroupForKey, keyGroupRangeForSubtask } from '../../src/format/key-groups.ts';
import type { KeyedStateBackend, StateBackend } from '../../src/state/backend.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import type { InternalKvState } from '../../src/state/keyed-states.ts';

/** Makes the backend under test; called before every test. */
export type BackendFactory = () => StateBackend | Promise<StateBackend>;

/** What a backend declares about itself; the suites adapt, and say so in test names. */
export interface StateBackendCapabilities {
  /**
   * Every operation is slow (e.g. real IndexedDB in a browser): the many-keys and
   * large-collection cases shrink tenfold, and their names say so.
   */
  slow?: boolean;
  /**
   * The backend offers no synchronous access (`syncAccess` unset, e.g. a proxy to a worker):
   * the synchronous cases then check that every synchronous call is refused with
   * `STATE_NOT_RESIDENT`.
   */
  noSyncAccess?: boolean;
}

/** The max parallelism every suite's keyed backends use unless a test asks for another. */
export const MAX_P = 128;
/** Distinguishes runs, so that persistent backends never meet a database of an earlier run. */
const RUN_ID = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
let jobCounter = 0;

/** A subtask's keyed state: the backend, the store on top, and a key setter. */
export interface Subtask {
  readonly kb: KeyedStateBackend;
  readonly store: KeyedStateStore;
  /** Sets the current key with its key group (computed for the backend's maxParallelism). */
  key(k: Key): void;
  /** Disposes the backend now rather than after the test. */
  dispose(): Promise<void>;
}

/** Which subtask {@link BackendHarness.open} opens; every field has a default. */
export interface OpenOptions {
  /** Another backend than the one under test (e.g. the reference HashMapStateBackend). */
  backend?: StateBackend;
  /** A fresh id unless given, so the subtask starts empty. */
  operatorId?: string;
  subtaskIndex?: number;
  parallelism?: number;
  maxParallelism?: number;
  /** The clock of the store's TTL; the system clock when absent. */
  clock?: Clock;
}

/** The backend under test for the running test, and keyed backends opened from it. */
export interface BackendHarness {
  /** The backend made for the running test. */
  readonly backend: StateBackend;
  /** The running test's job id (unique per test and run). */
  readonly jobId: string;
  /** A number that grows with every test, for names that must differ between tests. */
  readonly testSeq: number;
  /** A keyed backend for a subtask, with a store on top; disposed after the test. */
  open(o?: OpenOptions): Promise<Subtask>;
}

/**
 * Registers, in the enclosing `describe`, a fresh backend before every test and the
 * disposal of every keyed backend opened during it after the test.
 *
 * @param suite names the suite in job ids (`eddy-<suite>-<name>-…`).
 * @param name the backend's name as the suite shows it.
 * @param operator the operator name stores report in errors: `<operator> (i/p)`.
 */
export function useBackend(suite: string, name: string, makeBackend: BackendFactory, operator: string): BackendHarness {
  let factory: StateBackend | undefined;
  let jobId = '';
  let testSeq = 0;
  let live: KeyedStateBackend[] = [];
  let operatorSeq = 0;

  beforeEach(async () => {
    factory = await makeBackend();
    testSeq = ++jobCounter;
    jobId = `eddy-${suite}-${name}-${RUN_ID}-${testSeq}`;
    live = [];
  });

  afterEach(async () => {
    const toDispose = live;
    live = [];
    for (const kb of toDispose) await kb.dispose();
  });

  const backend = (): StateBackend => {
    if (factory === undefined) throw new Error('the backend under test exists only inside a test');
    return factory;
  };

  return {
    get backend() {
      return backend();
    },
    get jobId() {
      return jobId;
    },
    get testSeq() {
      return testSeq;
    },
    async open(o: OpenOptions = {}): Promise<Subtask> {
      const maxParallelism = o.maxParallelism ?? MAX_P;
      const parallelism = o.parallelism ?? 1;
      const subtaskIndex = o.subtaskIndex ?? 0;
      const operatorName = `${operator} (${subtaskIndex + 1}/${parallelism})`;
      const kb = await (o.backend ?? backend()).createKeyedStateBackend({
        jobId,
        operatorId: o.operatorId ?? `operator-${++operatorSeq}`,
        operatorName,
        subtaskIndex,
        parallelism,
        maxParallelism,
        keyGroupRange: keyGroupRangeForSubtask(maxParallelism, parallelism, subtaskIndex),
      });
      live.push(kb);
      return {
        kb,
        store: new KeyedStateStore(kb, operatorName, o.clock),
        key: (k) => kb.setCurrentKey(k, keyGroupForKey(k, maxParallelism)),
        dispose: async () => {
          live = live.filter((x) => x !== kb);
          await kb.dispose();
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------
// Helpers that need no backend

/** The accumulator of {@link average}. */
export interface Avg {
  sum: number;
  count: number;
}

/** An AggregateFunction computing the mean of the added numbers. */
export const average: AggregateFunction<number, Avg, number> = {
  createAccumulator: () => ({ sum: 0, count: 0 }),
  add: (v, acc) => ({ sum: acc.sum + v, count: acc.count + 1 }),
  getResult: (acc) => acc.sum / acc.count,
};

/** A ReducingState descriptor summing numbers. */
export const sumOf = (name: string) => new ReducingStateDescriptor<number>(name, (a, b) => a + b);

/** Points a state at a namespace (windows do this; users never see it). */
export function inNamespace(state: object, namespace: string): void {
  (state as unknown as InternalKvState).setCurrentNamespace(namespace);
}

/** Everything an async iterable yields, in order. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
/** A total order on keys that is the same in every runtime: their canonical bytes. */
export const keyOrder = (k: Key): string => hex(canonicalKeyBytes(k));
/** Compares two strings by UTF-16 code unit. */
export const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
/** A structurally equal key that shares no array with the original. */
export const copyKey = (k: Key): Key => (Array.isArray(k) ? k.map(copyKey) : k);
/** Keys in {@link keyOrder}: map iteration order is not part of the contract, so maps are compared order-free. */
export const sortKeys = (keys: readonly Key[]): Key[] => [...keys].sort((a, b) => cmp(keyOrder(a), keyOrder(b)));
/** Map entries in {@link keyOrder} of their keys. */
export const sortEntries = <V>(entries: ReadonlyArray<readonly [Key, V]>): Array<[Key, V]> =>
  entries.map(([k, v]): [Key, V] => [k, v]).sort((a, b) => cmp(keyOrder(a[0]), keyOrder(b[0])));

/** Runs an action to completion (awaiting a Promise, draining an async iterable); returns what it threw. */
export async function failureOf(action: () => unknown): Promise<unknown> {
  try {
    const r = action();
    if (r !== null && typeof (r as PromiseLike<unknown> | undefined)?.then === 'function') await r;
    else if (r !== null && typeof r === 'object' && Symbol.asyncIterator in r) await collect(r as AsyncIterable<unknown>);
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Expects `action` to fail with an EddyError of `code` whose message contains `mentions`. */
export async function expectEddyError(action: () => unknown, code: EddyErrorCode, mentions?: string): Promise<void> {
  const e = await failureOf(action);
  expect(e, `expected an EddyError ${code}`).toBeInstanceOf(EddyError);
  expect((e as EddyError).code, (e as Error).message).toBe(code);
  if (mentions !== undefined) expect((e as EddyError).message).toContain(mentions);
}

/** Index of the first element that differs from `expected(i)`, or -1 (no huge diffs on failure). */
export function firstMismatch(actual: ArrayLike<unknown>, length: number, expected: (i: number) => unknown): number {
  if (actual.length !== length) return Math.min(actual.length, length);
  for (let i = 0; i < length; i++) if (actual[i] !== expected(i)) return i;
  return -1;
}
