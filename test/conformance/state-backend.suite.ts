/**
 * The state-backend conformance suite (DESIGN §2, decision 8). Every `StateBackend` —
 * in memory, SQLite-WASM, IndexedDB; in Node, a browser tab or a Web Worker — must pass
 * it unchanged, and a backend's test file runs it in one line:
 *
 *   stateBackendSuite('hashmap', () => new HashMapStateBackend());
 *
 * The suite reaches state only through the public contract: `StateBackend` →
 * `KeyedStateBackend`, the five user-facing states of `KeyedStateStore` on top, and the
 * canonical snapshot format. It imports nothing platform-specific (no `node:`, no DOM),
 * so the same file runs in every runtime. Table methods may answer synchronously or
 * with a Promise, so everything is awaited. Map iteration order is not part of the
 * contract (a SQL backend iterates by key), so maps are compared order-free.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  ValueStateDescriptor,
  type StateKind,
} from '../../src/api/descriptors.ts';
import { EddyError, type EddyErrorCode } from '../../src/api/errors.ts';
import type { AggregateFunction } from '../../src/api/state.ts';
import { HashMapStateBackend } from '../../src/backends/memory.ts';
import { canonicalKeyBytes, type Key } from '../../src/format/key-bytes.ts';
import { keyGroupForKey, keyGroupRangeForSubtask, type KeyGroupRange } from '../../src/format/key-groups.ts';
import type { KeyedStateBackend, StateBackend } from '../../src/state/backend.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import type { InternalKvState } from '../../src/state/keyed-states.ts';
import { readKeyGroup, type KeyedStateSnapshot } from '../../src/format/snapshot-format.ts';

/** What a backend declares about itself; the suite adapts, and says so in test names. */
export interface StateBackendCapabilities {
  /**
   * Every operation is slow (e.g. real IndexedDB in a browser): the many-keys and
   * large-collection cases shrink tenfold, and their names say so.
   */
  slow?: boolean;
}

const MAX_P = 128;
/** Distinguishes runs, so that persistent backends never meet a database of an earlier run. */
const RUN_ID = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
let jobCounter = 0;

// ---------------------------------------------------------------------------------------
// Helpers that need no backend

/** A subtask's keyed state: the backend, the store on top, and a key setter. */
interface Subtask {
  readonly kb: KeyedStateBackend;
  readonly store: KeyedStateStore;
  /** Sets the current key with its key group (computed for the backend's maxParallelism). */
  key(k: Key): void;
  /** Disposes the backend now rather than after the test. */
  dispose(): Promise<void>;
}

interface OpenOptions {
  backend?: StateBackend;
  operatorId?: string;
  subtaskIndex?: number;
  parallelism?: number;
  maxParallelism?: number;
}

interface Avg {
  sum: number;
  count: number;
}

const average: AggregateFunction<number, Avg, number> = {
  createAccumulator: () => ({ sum: 0, count: 0 }),
  add: (v, acc) => ({ sum: acc.sum + v, count: acc.count + 1 }),
  getResult: (acc) => acc.sum / acc.count,
};

const sumOf = (name: string) => new ReducingStateDescriptor<number>(name, (a, b) => a + b);

/** Points a state at a namespace (windows do this; users never see it). */
function inNamespace(state: object, namespace: string): void {
  (state as unknown as InternalKvState).setCurrentNamespace(namespace);
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
/** A total order on keys that is the same in every runtime: their canonical bytes. */
const keyOrder = (k: Key): string => hex(canonicalKeyBytes(k));
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
/** A structurally equal key that shares no array with the original. */
const copyKey = (k: Key): Key => (Array.isArray(k) ? k.map(copyKey) : k);
const sortKeys = (keys: readonly Key[]): Key[] => [...keys].sort((a, b) => cmp(keyOrder(a), keyOrder(b)));
const sortEntries = <V>(entries: ReadonlyArray<readonly [Key, V]>): Array<[Key, V]> =>
  entries.map(([k, v]): [Key, V] => [k, v]).sort((a, b) => cmp(keyOrder(a[0]), keyOrder(b[0])));

/** Runs an action to completion (awaiting a Promise, draining an async iterable); returns what it threw. */
async function failureOf(action: () => unknown): Promise<unknown> {
  try {
    const r = action();
    if (r !== null && typeof (r as PromiseLike<unknown> | undefined)?.then === 'function') await r;
    else if (r !== null && typeof r === 'object' && Symbol.asyncIterator in r) await collect(r as AsyncIterable<unknown>);
  } catch (e) {
    return e;
  }
  return undefined;
}

async function expectEddyError(action: () => unknown, code: EddyErrorCode, mentions?: string): Promise<void> {
  const e = await failureOf(action);
  expect(e, `expected an EddyError ${code}`).toBeInstanceOf(EddyError);
  expect((e as EddyError).code, (e as Error).message).toBe(code);
  if (mentions !== undefined) expect((e as EddyError).message).toContain(mentions);
}

/** Index of the first element that differs from `expected(i)`, or -1 (no huge diffs on failure). */
function firstMismatch(actual: ArrayLike<unknown>, length: number, expected: (i: number) => unknown): number {
  if (actual.length !== length) return Math.min(actual.length, length);
  for (let i = 0; i < length; i++) if (actual[i] !== expected(i)) return i;
  return -1;
}

/** Values of every kind the codec accepts, nested. */
function structuredValue(): Record<string, unknown> {
  return {
    nested: { a: [1, { b: 'c', d: [[], {}] }], deep: { deeper: { deepest: [null] } } },
    array: [1, 'two', null, true, false, [3, [4, [5]]]],
    map: new Map<unknown, unknown>([
      ['a', 1],
      [2, { x: [1n] }],
      [[1, 2], 'array key'],
    ]),
    set: new Set<unknown>([1, 'a', 2n, null]),
    date: new Date(Date.UTC(2024, 1, 29, 12, 30, 15, 250)),
    bigints: [0n, 1n, -1n, 2n ** 100n, -(2n ** 70n)],
    bytes: Uint8Array.from([0, 1, 127, 128, 254, 255]),
    typed: [new Int32Array([-1, 2 ** 31 - 1]), new Float64Array([1.5, -0, NaN]), new BigInt64Array([-(2n ** 63n)])],
    numbers: [0, -0, 1.5, -1e308, 5e-324, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, 2 ** 60],
    strings: ['', 'é', '日本語', '😀', '\u0000', 'a\u0001b', 'lone \ud800 surrogate'],
    empty: {},
    'key with spaces': 'and "quotes"',
  };
}

// ---------------------------------------------------------------------------------------
// A fixture: every state kind, several namespaces, many keys of every key type

const FIXTURE_NAMESPACES = ['', 'window-1', 'ns/日本'];
const TYPED_KEYS: Key[] = [0, -1, 1.5, -0.25, 2n ** 64n, -7n, true, false, '', 'é日本😀', '\u0001a', [], ['a', 1], [['x'], 2n, true]];

/** What one (key, namespace) holds; `undefined`/empty means "no state of that kind". */
interface Cell {
  key: Key;
  namespace: string;
  value?: unknown;
  list: unknown[];
  map: Array<[Key, unknown]>;
  sumInputs: number[];
  avgInputs: number[];
}

function fixtureCells(count: number): Cell[] {
  const keys: Key[] = [...TYPED_KEYS, ...Array.from({ length: count }, (_, i) => `key-${i}`)];
  const cells: Cell[] = [];
  keys.forEach((key, i) => {
    FIXTURE_NAMESPACES.forEach((namespace, j) => {
      if (j !== 0 && i % 3 !== j) return;
      cells.push({
        key,
        namespace,
        value: i % 4 === 3 ? undefined : { i, namespace, at: new Date(86_400_000 * i), tags: new Set([namespace, i]), big: BigInt(i) << 40n },
        list: Array.from({ length: i % 4 }, (_, n) => (n === 1 ? { n, key } : `${namespace}#${i}.${n}`)),
        map: Array.from({ length: i % 5 }, (_, n): [Key, unknown] => [n % 2 === 1 ? `u${n}` : n, { n, namespace }]),
        sumInputs: i % 3 === 2 ? [] : [i, 1, 2],
        avgInputs: i % 5 === 4 ? [] : [i, i + 2],
      });
    });
  });
  return cells;
}

const FX = { value: 'fx-value', list: 'fx-list', map: 'fx-map', sum: 'fx-sum', avg: 'fx-avg' } as const;

function fixtureStates(store: KeyedStateStore) {
  return {
    value: store.getState(new ValueStateDescriptor<unknown>(FX.value)),
    list: store.getListState(new ListStateDescriptor<unknown>(FX.list)),
    map: store.getMapState(new MapStateDescriptor<Key, unknown>(FX.map)),
    sum: store.getReducingState(sumOf(FX.sum)),
    avg: store.getAggregatingState(new AggregatingStateDescriptor(FX.avg, average)),
  };
}

async function writeFixture(t: Subtask, cells: readonly Cell[]): Promise<void> {
  const s = fixtureStates(t.store);
  for (const c of cells) {
    t.key(c.key);
    for (const state of Object.values(s)) inNamespace(state, c.namespace);
    if (c.value !== undefined) await s.value.update(c.value);
    if (c.list.length > 0) await s.list.addAll(c.list);
    if (c.map.length > 0) await s.map.putAll(c.map);
    for (const v of c.sumInputs) await s.sum.add(v);
    for (const v of c.avgInputs) await s.avg.add(v);
  }
}

const sumResult = (c: Cell) => (c.sumInputs.length === 0 ? undefined : c.sumInputs.reduce((a, b) => a + b));
const avgResult = (c: Cell) => (c.avgInputs.length === 0 ? undefined : c.avgInputs.reduce((a, b) => a + b) / c.avgInputs.length);

/** Reads every cell back through a fresh store, and checks `keys()` lists exactly the cells' keys. */
async function verifyFixture(t: Subtask, cells: readonly Cell[]): Promise<void> {
  const s = fixtureStates(new KeyedStateStore(t.kb, 'verifier'));
  for (const c of cells) {
    t.key(c.key);
    for (const state of Object.values(s)) inNamespace(state, c.namespace);
    const where = `key ${keyOrder(c.key)} namespace "${c.namespace}"`;
    expect(await s.value.value(), where).toEqual(c.value);
    expect(await s.list.get(), where).toEqual(c.list);
    expect(sortEntries(await collect(s.map.entries())), where).toEqual(sortEntries(c.map));
    expect(await s.sum.get(), where).toBe(sumResult(c));
    expect(await s.avg.get(), where).toBe(avgResult(c));
  }
  const has: Record<keyof typeof FX, (c: Cell) => boolean> = {
    value: (c) => c.value !== undefined,
    list: (c) => c.list.length > 0,
    map: (c) => c.map.length > 0,
    sum: (c) => c.sumInputs.length > 0,
    avg: (c) => c.avgInputs.length > 0,
  };
  for (const kind of Object.keys(FX) as Array<keyof typeof FX>) {
    for (const namespace of FIXTURE_NAMESPACES) {
      const expected = cells.filter((c) => c.namespace === namespace && has[kind](c)).map((c) => c.key);
      expect(sortKeys(await collect(t.kb.keys(FX[kind], namespace))), `keys(${FX[kind]}, "${namespace}")`).toEqual(sortKeys(expected));
    }
  }
}

const inRange = (cells: readonly Cell[], range: KeyGroupRange) => cells.filter((c) => range.contains(keyGroupForKey(c.key, MAX_P)));

/** A snapshot's contents in an order-free, backend-independent form, for comparing snapshots. */
function contentsOf(snapshot: KeyedStateSnapshot) {
  const entries: Array<{ sort: string; keyGroup: number; state: string; kind: StateKind; key: Key; namespace: string; payload: unknown }> = [];
  for (const [keyGroup, bytes] of snapshot.keyGroups) {
    for (const e of readKeyGroup(bytes, snapshot.states)) {
      const { name, kind } = snapshot.states[e.stateIndex]!;
      const payload = e.shape === 'value' ? e.value : e.shape === 'list' ? e.values : sortEntries(e.entries);
      entries.push({ sort: `${name}\u0000${e.namespace}\u0000${keyOrder(e.key)}`, keyGroup, state: name, kind, key: e.key, namespace: e.namespace, payload });
    }
  }
  entries.sort((a, b) => cmp(a.sort, b.sort));
  return {
    formatVersion: snapshot.formatVersion,
    maxParallelism: snapshot.maxParallelism,
    states: [...snapshot.states].map(({ name, kind }) => ({ name, kind })).sort((a, b) => cmp(a.name, b.name)),
    entries,
  };
}

// ---------------------------------------------------------------------------------------
// The suite

/**
 * Declares the conformance suite for one state backend.
 *
 * @param name shown in the suite's name and used in job ids.
 * @param makeBackend called before every test; the suite creates keyed backends from it
 *   (one job id per test) and disposes every one of them after the test.
 * @param capabilities what the backend declares about itself; see {@link StateBackendCapabilities}.
 */
export function stateBackendSuite(name: string, makeBackend: () => StateBackend | Promise<StateBackend>, capabilities: StateBackendCapabilities = {}): void {
  const slow = capabilities.slow === true;
  const reduced = slow ? ' (sizes reduced tenfold: the backend declares itself slow)' : '';
  const N_KEYS = slow ? 200 : 2_000;
  const N_FIXTURE = slow ? 30 : 300;
  const N_LIST = slow ? 10_000 : 100_000;
  const N_MAP = slow ? 1_000 : 10_000;

  describe(`state backend conformance: ${name}`, () => {
    let factory: StateBackend;
    let jobId = '';
    let live: KeyedStateBackend[] = [];
    let operatorSeq = 0;

    beforeEach(async () => {
      factory = await makeBackend();
      jobId = `eddy-conformance-${name}-${RUN_ID}-${++jobCounter}`;
      live = [];
    });

    afterEach(async () => {
      const toDispose = live;
      live = [];
      for (const kb of toDispose) await kb.dispose();
    });

    /** A keyed backend for a subtask; a fresh operator id unless one is given, so it starts empty. */
    async function open(o: OpenOptions = {}): Promise<Subtask> {
      const maxParallelism = o.maxParallelism ?? MAX_P;
      const parallelism = o.parallelism ?? 1;
      const subtaskIndex = o.subtaskIndex ?? 0;
      const operatorName = `Conformance (${subtaskIndex + 1}/${parallelism})`;
      const kb = await (o.backend ?? factory).createKeyedStateBackend({
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
        store: new KeyedStateStore(kb, operatorName),
        key: (k) => kb.setCurrentKey(k, keyGroupForKey(k, maxParallelism)),
        dispose: async () => {
          live = live.filter((x) => x !== kb);
          await kb.dispose();
        },
      };
    }

    const openReference = () => open({ backend: new HashMapStateBackend() });

    describe('ValueState', () => {
      it('value() is undefined when nothing was stored', async () => {
        const t = await open();
        const s = t.store.getState(new ValueStateDescriptor<number>('v'));
        t.key('a');
        expect(await s.value()).toBeUndefined();
      });

      it("value() returns the descriptor's defaultValue until a value is stored, and after clear()", async () => {
        const t = await open();
        const s = t.store.getState(new ValueStateDescriptor<number>('v', { defaultValue: 42 }));
        t.key('a');
        expect(await s.value()).toBe(42);
        await s.update(7);
        expect(await s.value()).toBe(7);
        await s.clear();
        expect(await s.value()).toBe(42);
      });

      it('update() replaces the value; 0, "", false and null are values, not absence', async () => {
        const t = await open();
        const s = t.store.getState(new ValueStateDescriptor<unknown>('v', { defaultValue: 'default' }));
        t.key('a');
        for (const v of [1, 0, '', false, null, 'last']) {
          await s.update(v);
          expect(await s.value()).toBe(v);
        }
        expect(sortKeys(await collect(t.kb.keys('v', '')))).toEqual(['a']);
      });

      it('update(undefined) clears the value, like clear()', async () => {
        const t = await open();
        const s = t.store.getState(new ValueStateDescriptor<string>('v'));
        t.key('a');
        await s.update('x');
        await s.update(undefined);
        expect(await s.value()).toBeUndefined();
        expect(await collect(t.kb.keys('v', ''))).toEqual([]);
      });

      it("clear() removes only the current key's value", async () => {
        const t = await open();
        const s = t.store.getState(new ValueStateDescriptor<string>('v'));
        t.key('a');
        await s.update('A');
        t.key('b');
        await s.update('B');
        await s.clear();
        expect(await s.value()).toBeUndefined();
        t.key('a');
        expect(await s.value()).toBe('A');
      });
    });

    describe('ListState', () => {
      it('get() is [] when nothing was stored', async () => {
        const t = await open();
        const s = t.store.getListState(new ListStateDescriptor<number>('l'));
        t.key('a');
        expect(await s.get()).toEqual([]);
      });

      it('add() and addAll() append in order, keeping duplicates, nulls and structured elements', async () => {
        const t = await open();
        const s = t.store.getListState(new ListStateDescriptor<unknown>('l'));
        t.key('a');
        await s.add(1);
        await s.addAll([2, 3]);
        await s.add(1);
        await s.addAll([]);
        await s.addAll(new Set([null, { x: [4] }]));
        await s.add('five');
        expect(await s.get()).toEqual([1, 2, 3, 1, null, { x: [4] }, 'five']);
      });

      it('update() replaces the list (from any iterable); update([]) clears it', async () => {
        const t = await open();
        const s = t.store.getListState(new ListStateDescriptor<number>('l'));
        t.key('a');
        await s.addAll([1, 2, 3]);
        await s.update([9, 8]);
        expect(await s.get()).toEqual([9, 8]);
        await s.update(
          (function* () {
            yield 7;
            yield 6;
          })(),
        );
        expect(await s.get()).toEqual([7, 6]);
        await s.update([]);
        expect(await s.get()).toEqual([]);
        expect(await collect(t.kb.keys('l', ''))).toEqual([]);
        await s.add(5);
        expect(await s.get()).toEqual([5]);
      });

      it('clear() removes the list of the current key only', async () => {
        const t = await open();
        const s = t.store.getListState(new ListStateDescriptor<number>('l'));
        t.key('a');
        await s.addAll([1, 2]);
        t.key('b');
        await s.addAll([3]);
        await s.clear();
        expect(await s.get()).toEqual([]);
        t.key('a');
        expect(await s.get()).toEqual([1, 2]);
      });

      it('the array get() returns is a copy: later adds do not change it, and changing it does not change the state', async () => {
        const t = await open();
        const s = t.store.getListState(new ListStateDescriptor<number>('l'));
        t.key('a');
        await s.addAll([1, 2]);
        const first = await s.get();
        await s.add(3);
        await s.addAll([4]);
        expect(await s.get()).toEqual([1, 2, 3, 4]);
        expect(first).toEqual([1, 2]);
        first.push(99);
        first[0] = -1;
        expect(await s.get()).toEqual([1, 2, 3, 4]);
      });

      it('changing the array passed to addAll() or update() afterwards does not change the state', async () => {
        const t = await open();
        const s = t.store.getListState(new ListStateDescriptor<number>('l'));
        t.key('a');
        const input = [1, 2];
        await s.update(input);
        input.push(3);
        const more = [4];
        await s.addAll(more);
        more.push(5);
        expect(await s.get()).toEqual([1, 2, 4]);
      });
    });

    describe('MapState', () => {
      it('get() is undefined, contains() false and isEmpty() true when nothing was stored', async () => {
        const t = await open();
        const s = t.store.getMapState(new MapStateDescriptor<string, number>('m'));
        t.key('a');
        expect(await s.get('x')).toBeUndefined();
        expect(await s.contains('x')).toBe(false);
        expect(await s.isEmpty()).toBe(true);
        expect(await collect(s.entries())).toEqual([]);
      });

      it('put() inserts and overwrites; remove() deletes one entry; removing a missing key does nothing', async () => {
        const t = await open();
        const s = t.store.getMapState(new MapStateDescriptor<string, number>('m'));
        t.key('a');
        await s.put('x', 1);
        await s.put('y', 2);
        await s.put('x', 3);
        expect(await s.get('x')).toBe(3);
        expect(await s.contains('y')).toBe(true);
        expect(await s.isEmpty()).toBe(false);
        await s.remove('y');
        await s.remove('never there');
        expect(await s.contains('y')).toBe(false);
        expect(await s.get('y')).toBeUndefined();
        expect(sortEntries(await collect(s.entries()))).toEqual([['x', 3]]);
      });

      it('null values are values: contains() is true and get() returns null', async () => {
        const t = await open();
        const s = t.store.getMapState(new MapStateDescriptor<string, null>('m'));
        t.key('a');
        await s.put('n', null);
        expect(await s.contains('n')).toBe(true);
        expect(await s.get('n')).toBeNull();
        expect(await s.isEmpty()).toBe(false);
      });

      it('putAll() takes an array of pairs and a Map, overwriting existing entries', async () => {
        const t = await open();
        const s = t.store.getMapState(new MapStateDescriptor<string, number>('m'));
        t.key('a');
        await s.put('a', 0);
        await s.putAll([
          ['a', 1],
          ['b', 2],
        ]);
        await s.putAll(
          new Map([
            ['c', 3],
            ['b', 20],
          ]),
        );
        await s.putAll([]);
        expect(sortEntries(await collect(s.entries()))).toEqual(
          sortEntries([
            ['a', 1],
            ['b', 20],
            ['c', 3],
          ]),
        );
      });

      it('entries(), keys() and values() are async iterables over every entry, consistent with each other', async () => {
        const t = await open();
        const s = t.store.getMapState(new MapStateDescriptor<number, string>('m'));
        t.key('a');
        const expected = Array.from({ length: 20 }, (_, i): [number, string] => [i, `v${i}`]);
        await s.putAll(expected);
        const entries = await collect(s.entries());
        expect(sortEntries(entries)).toEqual(expected);
        expect(await collect(s.keys())).toEqual(entries.map(([k]) => k));
        expect(await collect(s.values())).toEqual(entries.map(([, v]) => v));
      });

      it('clear() removes every entry of the current key only', async () => {
        const t = await open();
        const s = t.store.getMapState(new MapStateDescriptor<string, number>('m'));
        t.key('a');
        await s.putAll([
          ['x', 1],
          ['y', 2],
        ]);
        t.key('b');
        await s.put('x', 3);
        await s.clear();
        expect(await s.isEmpty()).toBe(true);
        expect(await s.get('x')).toBeUndefined();
        t.key('a');
        expect(sortEntries(await collect(s.entries()))).toEqual([
          ['x', 1],
          ['y', 2],
        ]);
      });

      it('user keys of every type are distinct (1, "1", 1n, true, [1], [[1]] …) and arrays match by value', async () => {
        const t = await open();
        const s = t.store.getMapState(new MapStateDescriptor<Key, string>('m'));
        t.key('a');
        const userKeys: Key[] = [1, '1', 1n, true, 'true', [1], ['1'], [[1]], [1, [2, 'a']], [], '', 0, -1, 1.5, -(2n ** 80n), false, 'é😀', '\u0001a'];
        for (const k of userKeys) await s.put(k, `value of ${keyOrder(k)}`);
        for (const k of userKeys) {
          expect(await s.get(copyKey(k)), keyOrder(k)).toBe(`value of ${keyOrder(k)}`);
        }
        expect(await s.get([1, [2, 'a']])).toBe(`value of ${keyOrder([1, [2, 'a']])}`);
        expect(sortKeys(await collect(s.keys()))).toEqual(sortKeys(userKeys));
        await s.remove([1]);
        expect(await s.contains([1])).toBe(false);
        expect(await s.contains(1)).toBe(true);
        expect(await s.contains([[1]])).toBe(true);
      });

      it('removing the visited entry while iterating entries() still visits every entry once', async () => {
        const t = await open();
        const s = t.store.getMapState(new MapStateDescriptor<number, number>('m'));
        t.key('a');
        await s.putAll(Array.from({ length: 50 }, (_, i): [number, number] => [i, i]));
        const seen: number[] = [];
        for await (const [k] of s.entries()) {
          seen.push(k);
          if (k % 2 === 0) await s.remove(k);
        }
        expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
        expect((await collect(s.keys())).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => 2 * i + 1));
      });
    });

    describe('ReducingState', () => {
      it('get() is undefined before the first add()', async () => {
        const t = await open();
        const s = t.store.getReducingState(sumOf('r'));
        t.key('a');
        expect(await s.get()).toBeUndefined();
      });

      it('add() folds with reduce(accumulated, added), in order', async () => {
        const t = await open();
        const s = t.store.getReducingState(new ReducingStateDescriptor<string>('r', (acc, v) => `${acc}${v}`));
        t.key('a');
        await s.add('a');
        expect(await s.get()).toBe('a');
        await s.add('b');
        await s.add('c');
        expect(await s.get()).toBe('abc');
      });

      it('clear() resets it; the next add() starts a new fold', async () => {
        const t = await open();
        const s = t.store.getReducingState(sumOf('r'));
        t.key('a');
        await s.add(5);
        await s.add(6);
        expect(await s.get()).toBe(11);
        await s.clear();
        expect(await s.get()).toBeUndefined();
        await s.add(2);
        expect(await s.get()).toBe(2);
      });
    });

    describe('AggregatingState', () => {
      it('get() is undefined before the first add()', async () => {
        const t = await open();
        const s = t.store.getAggregatingState(new AggregatingStateDescriptor('avg', average));
        t.key('a');
        expect(await s.get()).toBeUndefined();
      });

      it('add() goes through createAccumulator() and add(); get() returns getResult() (an average)', async () => {
        const t = await open();
        const s = t.store.getAggregatingState(new AggregatingStateDescriptor('avg', average));
        t.key('a');
        await s.add(1);
        expect(await s.get()).toBe(1);
        await s.add(2);
        await s.add(6);
        expect(await s.get()).toBe(3);
      });

      it('clear() resets it; the next add() starts from createAccumulator()', async () => {
        const t = await open();
        const s = t.store.getAggregatingState(new AggregatingStateDescriptor('avg', average));
        t.key('a');
        await s.add(10);
        await s.clear();
        expect(await s.get()).toBeUndefined();
        await s.add(4);
        expect(await s.get()).toBe(4);
      });
    });

    describe('isolation', () => {
      it(`${N_KEYS} keys written in interleaved rounds each keep their own state${reduced}`, async () => {
        const t = await open();
        const v = t.store.getState(new ValueStateDescriptor<string>('v'));
        const l = t.store.getListState(new ListStateDescriptor<number>('l'));
        const m = t.store.getMapState(new MapStateDescriptor<number, number>('m'));
        const keys = Array.from({ length: N_KEYS }, (_, i) => `user-${i}`);
        for (let round = 0; round < 3; round++) {
          for (let i = 0; i < N_KEYS; i++) {
            t.key(keys[i]!);
            await v.update(`${i}:${round}`);
            await l.add(round * N_KEYS + i);
            await m.put(round, i);
          }
        }
        for (let i = 0; i < N_KEYS; i++) {
          t.key(keys[i]!);
          expect(await v.value()).toBe(`${i}:2`);
          expect(await l.get()).toEqual([i, N_KEYS + i, 2 * N_KEYS + i]);
          expect(sortEntries(await collect(m.entries()))).toEqual([
            [0, i],
            [1, i],
            [2, i],
          ]);
        }
        expect(sortKeys(await collect(t.kb.keys('v', '')))).toEqual(sortKeys(keys));
      });

      it('keys of every type are distinct keys: 0, -1, 1.5, 1 vs "1" vs 1n vs true, nested arrays, unicode', async () => {
        const t = await open();
        const s = t.store.getState(new ValueStateDescriptor<string>('v'));
        const keys: Key[] = [
          '1',
          1,
          1n,
          true,
          'true',
          [1],
          ['1'],
          [[1]],
          [1, [2, ['deep', 3n]]],
          [],
          '',
          0,
          -1,
          -123456.789,
          1.5,
          Number.MAX_VALUE,
          2n ** 100n,
          -(2n ** 100n),
          false,
          'é',
          'e\u0301',
          '日本語',
          '😀',
          '\u0000',
          '\u0001a',
          '\u0001s',
          'a'.repeat(1000),
        ];
        for (const k of keys) {
          t.key(k);
          await s.update(keyOrder(k));
        }
        for (const k of keys) {
          t.key(k);
          expect(await s.value(), keyOrder(k)).toBe(keyOrder(k));
        }
        expect(sortKeys(await collect(t.kb.keys('v', '')))).toEqual(sortKeys(keys));
      });

      it('-0 and 0 are the same key, as === says', async () => {
        const t = await open();
        const s = t.store.getState(new ValueStateDescriptor<string>('v'));
        t.key(-0);
        await s.update('written under -0');
        t.key(0);
        expect(await s.value()).toBe('written under -0');
        expect(await collect(t.kb.keys('v', ''))).toEqual([0]);
      });

      it('states with different names never share data, also when names are prefixes of each other or contain punctuation', async () => {
        const t = await open();
        const names = ['a', 'ab', 'a.b', 'a/b', 'a:b', 'a b', `quote'"\``, '日本', 'DROP TABLE state;--', 'A'];
        const states = names.map((n) => t.store.getState(new ValueStateDescriptor<string>(n)));
        const lists = names.map((n) => t.store.getListState(new ListStateDescriptor<string>(`${n}-list`)));
        t.key('k');
        for (let i = 0; i < names.length; i++) {
          await states[i]!.update(names[i]!);
          await lists[i]!.add(names[i]!);
        }
        for (let i = 0; i < names.length; i++) {
          expect(await states[i]!.value()).toBe(names[i]);
          expect(await lists[i]!.get()).toEqual([names[i]]);
        }
        await states[0]!.clear();
        expect(await states[1]!.value()).toBe('ab');
      });

      it('namespaces keep the state of one key apart, for every state kind', async () => {
        const t = await open();
        const s = fixtureStates(t.store);
        const namespaces = ['', 'a', 'ab', 'a/b', 'window:1000-2000', '日本'];
        t.key('k');
        for (const [i, ns] of namespaces.entries()) {
          for (const state of Object.values(s)) inNamespace(state, ns);
          await s.value.update(ns);
          await s.list.addAll([ns, i]);
          await s.map.put(ns, i);
          await s.sum.add(i);
          await s.avg.add(i);
        }
        for (const [i, ns] of namespaces.entries()) {
          for (const state of Object.values(s)) inNamespace(state, ns);
          expect(await s.value.value()).toBe(ns);
          expect(await s.list.get()).toEqual([ns, i]);
          expect(await collect(s.map.entries())).toEqual([[ns, i]]);
          expect(await s.sum.get()).toBe(i);
          expect(await s.avg.get()).toBe(i);
          expect(await collect(t.kb.keys(FX.value, ns))).toEqual(['k']);
        }
        for (const state of Object.values(s)) inNamespace(state, 'a');
        for (const state of Object.values(s)) await state.clear();
        expect(await collect(t.kb.keys(FX.map, 'a'))).toEqual([]);
        for (const state of Object.values(s)) inNamespace(state, 'ab');
        expect(await s.value.value()).toBe('ab');
        expect(await collect(s.map.entries())).toEqual([['ab', 2]]);
      });

      it('two operators of one job keep their state apart, under the same state names and keys', async () => {
        const a = await open({ operatorId: 'left' });
        const b = await open({ operatorId: 'right' });
        const va = a.store.getState(new ValueStateDescriptor<string>('v'));
        const vb = b.store.getState(new ValueStateDescriptor<string>('v'));
        a.key('k');
        b.key('k');
        await va.update('left');
        await vb.update('right');
        expect(await va.value()).toBe('left');
        expect(await vb.value()).toBe('right');
        await vb.clear();
        expect(await va.value()).toBe('left');
      });
    });

    describe('current key', () => {
      it('getCurrentKey() returns the key set last, and undefined after clearCurrentKey()', async () => {
        const t = await open();
        expect(t.kb.getCurrentKey()).toBeUndefined();
        t.key('a');
        t.key(['x', 1n]);
        expect(t.kb.getCurrentKey()).toEqual(['x', 1n]);
        t.kb.clearCurrentKey();
        expect(t.kb.getCurrentKey()).toBeUndefined();
      });

      it('after clearCurrentKey(), every method of every state fails with NO_KEY_CONTEXT naming the state (Promises reject, iterables throw), and nothing changes', async () => {
        const t = await open();
        const v = t.store.getState(new ValueStateDescriptor<number>('nokey-value'));
        const l = t.store.getListState(new ListStateDescriptor<number>('nokey-list'));
        const m = t.store.getMapState(new MapStateDescriptor<string, number>('nokey-map'));
        const r = t.store.getReducingState(sumOf('nokey-reducing'));
        const g = t.store.getAggregatingState(new AggregatingStateDescriptor('nokey-aggregating', average));
        t.key('k');
        await v.update(1);
        await l.add(1);
        await m.put('x', 1);
        await r.add(1);
        await g.add(1);
        t.kb.clearCurrentKey();
        const calls: Array<[string, () => unknown]> = [
          ['nokey-value', () => v.value()],
          ['nokey-value', () => v.update(2)],
          ['nokey-value', () => v.update(undefined)],
          ['nokey-value', () => v.clear()],
          ['nokey-list', () => l.get()],
          ['nokey-list', () => l.add(2)],
          ['nokey-list', () => l.addAll([2])],
          ['nokey-list', () => l.update([2])],
          ['nokey-list', () => l.clear()],
          ['nokey-map', () => m.get('x')],
          ['nokey-map', () => m.put('x', 2)],
          ['nokey-map', () => m.putAll([['y', 2]])],
          ['nokey-map', () => m.remove('x')],
          ['nokey-map', () => m.contains('x')],
          ['nokey-map', () => m.isEmpty()],
          ['nokey-map', () => m.entries()],
          ['nokey-map', () => m.keys()],
          ['nokey-map', () => m.values()],
          ['nokey-map', () => m.clear()],
          ['nokey-reducing', () => r.get()],
          ['nokey-reducing', () => r.add(2)],
          ['nokey-reducing', () => r.clear()],
          ['nokey-aggregating', () => g.get()],
          ['nokey-aggregating', () => g.add(2)],
          ['nokey-aggregating', () => g.clear()],
        ];
        for (const [stateName, call] of calls) await expectEddyError(call, 'NO_KEY_CONTEXT', stateName);
        t.key('k');
        expect(await v.value()).toBe(1);
        expect(await l.get()).toEqual([1]);
        expect(await collect(m.entries())).toEqual([['x', 1]]);
        expect(await r.get()).toBe(1);
        expect(await g.get()).toBe(1);
      });

      it('a backend on which no key was ever set refuses state access with NO_KEY_CONTEXT', async () => {
        const t = await open();
        const v = t.store.getState(new ValueStateDescriptor<number>('never-keyed'));
        await expectEddyError(() => v.value(), 'NO_KEY_CONTEXT', 'never-keyed');
        await expectEddyError(() => v.update(1), 'NO_KEY_CONTEXT', 'never-keyed');
      });

      it("setCurrentKey() with a key group outside the backend's range throws an EddyError", async () => {
        const t = await open({ parallelism: 3, subtaskIndex: 0 });
        const range = t.kb.keyGroupRange;
        expect(range.equals(keyGroupRangeForSubtask(MAX_P, 3, 0))).toBe(true);
        for (const kg of [range.end + 1, MAX_P - 1, MAX_P, -1]) {
          expect(() => t.kb.setCurrentKey('x', kg), `key group ${kg}`).toThrow(EddyError);
          expect(t.kb.getCurrentKey()).not.toBe('x');
        }
        let foreign = 0;
        while (range.contains(keyGroupForKey(`k${foreign}`, MAX_P))) foreign++;
        expect(() => t.key(`k${foreign}`)).toThrow(EddyError);
        const v = t.store.getState(new ValueStateDescriptor<number>('v'));
        t.key(inRangeKey(range));
        await v.update(1);
        expect(await v.value()).toBe(1);
      });
    });

    describe('errors', () => {
      it('reusing a state name with another kind through KeyedStateStore throws STATE_KIND_MISMATCH and leaves the state intact', async () => {
        const t = await open();
        const v = t.store.getState(new ValueStateDescriptor<number>('dup'));
        t.key('k');
        await v.update(1);
        await expectEddyError(() => t.store.getListState(new ListStateDescriptor<number>('dup')), 'STATE_KIND_MISMATCH', 'dup');
        await expectEddyError(() => t.store.getMapState(new MapStateDescriptor<string, number>('dup')), 'STATE_KIND_MISMATCH', 'dup');
        await expectEddyError(() => t.store.getReducingState(sumOf('dup')), 'STATE_KIND_MISMATCH', 'dup');
        await expectEddyError(() => t.store.getAggregatingState(new AggregatingStateDescriptor('dup', average)), 'STATE_KIND_MISMATCH', 'dup');
        // A second store over the same backend has no memory of its own: the backend refuses.
        const other = new KeyedStateStore(t.kb, 'another store');
        await expectEddyError(() => other.getReducingState(sumOf('dup')), 'STATE_KIND_MISMATCH', 'dup');
        await expectEddyError(() => other.getListState(new ListStateDescriptor<number>('dup')), 'STATE_KIND_MISMATCH', 'dup');
        expect(await v.value()).toBe(1);
        expect(t.kb.states()).toEqual([{ name: 'dup', kind: 'value' }]);
      });

      it('the raw tables refuse a name registered with another kind with STATE_KIND_MISMATCH', async () => {
        const t = await open();
        t.kb.valueTable('raw-value', 'value');
        t.kb.listTable('raw-list');
        t.kb.mapTable('raw-map');
        t.kb.valueTable('raw-reducing', 'reducing');
        await expectEddyError(() => t.kb.listTable('raw-value'), 'STATE_KIND_MISMATCH', 'raw-value');
        await expectEddyError(() => t.kb.mapTable('raw-value'), 'STATE_KIND_MISMATCH', 'raw-value');
        await expectEddyError(() => t.kb.valueTable('raw-value', 'reducing'), 'STATE_KIND_MISMATCH', 'raw-value');
        await expectEddyError(() => t.kb.valueTable('raw-value', 'aggregating'), 'STATE_KIND_MISMATCH', 'raw-value');
        await expectEddyError(() => t.kb.valueTable('raw-list', 'value'), 'STATE_KIND_MISMATCH', 'raw-list');
        await expectEddyError(() => t.kb.mapTable('raw-list'), 'STATE_KIND_MISMATCH', 'raw-list');
        await expectEddyError(() => t.kb.listTable('raw-map'), 'STATE_KIND_MISMATCH', 'raw-map');
        await expectEddyError(() => t.kb.valueTable('raw-reducing', 'value'), 'STATE_KIND_MISMATCH', 'raw-reducing');
        t.kb.valueTable('raw-value', 'value');
        t.kb.listTable('raw-list');
      });

      const cyclic: Record<string, unknown> = { a: 1 };
      cyclic.self = cyclic;
      const unserialisable: Array<[string, unknown]> = [
        ['a function', () => 1],
        ['a symbol', Symbol('s')],
        ['an object containing a function', { nested: { ok: 1, f() {} } }],
        [
          'a class instance',
          new (class Point {
            x = 1;
          })(),
        ],
        ['a cyclic object', cyclic],
      ];

      it('ValueState.update() of an unserialisable value (function, symbol, object with a function, class instance, cycle) rejects with UNSERIALIZABLE_VALUE naming the state; the old value stays', async () => {
        const t = await open();
        const s = t.store.getState(new ValueStateDescriptor<unknown>('bad-value'));
        t.key('k');
        await s.update({ good: true });
        for (const [what, bad] of unserialisable) {
          await expectEddyError(() => s.update(bad), 'UNSERIALIZABLE_VALUE', 'bad-value');
          expect(await s.value(), what).toEqual({ good: true });
        }
      });

      it('ListState add(), addAll() and update() with an unserialisable element reject with UNSERIALIZABLE_VALUE and write nothing', async () => {
        const t = await open();
        const s = t.store.getListState(new ListStateDescriptor<unknown>('bad-list'));
        t.key('k');
        await s.addAll([1, 2]);
        for (const [what, bad] of unserialisable) {
          await expectEddyError(() => s.add(bad), 'UNSERIALIZABLE_VALUE', 'bad-list');
          await expectEddyError(() => s.addAll([3, bad]), 'UNSERIALIZABLE_VALUE', 'bad-list');
          await expectEddyError(() => s.update([3, bad]), 'UNSERIALIZABLE_VALUE', 'bad-list');
          expect(await s.get(), what).toEqual([1, 2]);
        }
      });

      it('MapState put() and putAll() with an unserialisable value reject with UNSERIALIZABLE_VALUE and write nothing', async () => {
        const t = await open();
        const s = t.store.getMapState(new MapStateDescriptor<string, unknown>('bad-map'));
        t.key('k');
        await s.put('x', 1);
        for (const [what, bad] of unserialisable) {
          await expectEddyError(() => s.put('x', bad), 'UNSERIALIZABLE_VALUE', 'bad-map');
          await expectEddyError(
            () =>
              s.putAll([
                ['y', 2],
                ['z', bad],
              ]),
            'UNSERIALIZABLE_VALUE',
            'bad-map',
          );
          expect(sortEntries(await collect(s.entries())), what).toEqual([['x', 1]]);
        }
      });

      it('ReducingState rejects an unserialisable added value or reduce result with UNSERIALIZABLE_VALUE; the folded value stays', async () => {
        const t = await open();
        const s = t.store.getReducingState(new ReducingStateDescriptor<unknown>('bad-reducing', (a, b) => (b === 'poison' ? () => a : b)));
        t.key('k');
        await s.add(1);
        for (const [what, bad] of unserialisable) {
          await expectEddyError(() => s.add(bad), 'UNSERIALIZABLE_VALUE', 'bad-reducing');
          expect(await s.get(), what).toBe(1);
        }
        await expectEddyError(() => s.add('poison'), 'UNSERIALIZABLE_VALUE', 'bad-reducing');
        expect(await s.get()).toBe(1);
      });

      it('AggregatingState rejects an unserialisable accumulator with UNSERIALIZABLE_VALUE; the accumulator stays', async () => {
        const t = await open();
        const fn: AggregateFunction<number, Avg, number> = { ...average, add: (v, acc) => (v === 99 ? { ...acc, f: () => v } : average.add(v, acc)) };
        const s = t.store.getAggregatingState(new AggregatingStateDescriptor('bad-aggregating', fn));
        t.key('k');
        await s.add(4);
        await expectEddyError(() => s.add(99), 'UNSERIALIZABLE_VALUE', 'bad-aggregating');
        expect(await s.get()).toBe(4);
      });

      it('ReducingState and AggregatingState refuse undefined (an added value, a reduce result, an accumulator) with INVALID_ARGUMENT, leaving no phantom key', async () => {
        const t = await open();
        const r = t.store.getReducingState(
          new ReducingStateDescriptor<number | undefined>('undef-reducing', (a, b) => (b === 0 ? undefined : (a ?? 0) + (b ?? 0))),
        );
        const forgetful: AggregateFunction<number, Avg | undefined, number> = {
          createAccumulator: () => ({ sum: 0, count: 0 }),
          add: (v, acc) => (v === 0 ? undefined : average.add(v, acc!)),
          getResult: (acc) => average.getResult(acc!),
        };
        const g = t.store.getAggregatingState(new AggregatingStateDescriptor('undef-aggregating', forgetful));
        t.key('empty');
        await expectEddyError(() => r.add(undefined), 'INVALID_ARGUMENT', 'undef-reducing');
        await expectEddyError(() => g.add(0), 'INVALID_ARGUMENT', 'undef-aggregating');
        expect(await collect(t.kb.keys('undef-reducing', ''))).toEqual([]);
        expect(await collect(t.kb.keys('undef-aggregating', ''))).toEqual([]);
        t.key('full');
        await r.add(5);
        await g.add(5);
        await expectEddyError(() => r.add(0), 'INVALID_ARGUMENT', 'undef-reducing');
        await expectEddyError(() => g.add(0), 'INVALID_ARGUMENT', 'undef-aggregating');
        expect(await r.get()).toBe(5);
        expect(await g.get()).toBe(5);
      });

      it('undefined list elements and map values, and invalid map keys, are refused without writing', async () => {
        const t = await open();
        const l = t.store.getListState(new ListStateDescriptor<unknown>('list'));
        const m = t.store.getMapState(new MapStateDescriptor<Key, unknown>('map'));
        t.key('k');
        await expectEddyError(() => l.add(undefined), 'INVALID_ARGUMENT', 'list');
        await expectEddyError(() => l.addAll([1, undefined]), 'INVALID_ARGUMENT', 'list');
        await expectEddyError(() => m.put('x', undefined), 'INVALID_ARGUMENT', 'map');
        for (const badKey of [NaN, null, undefined, {}, [1, {}], () => 1]) {
          await expectEddyError(() => m.put(badKey as unknown as Key, 1), 'INVALID_KEY', 'map');
        }
        expect(await l.get()).toEqual([]);
        expect(await m.isEmpty()).toBe(true);
        expect(await collect(t.kb.keys('list', ''))).toEqual([]);
        expect(await collect(t.kb.keys('map', ''))).toEqual([]);
      });
    });

    describe('large values', () => {
      it('a 1 MiB string and a 1 MiB Uint8Array are stored as single values and survive snapshot and restore', async () => {
        const t = await open();
        const s = t.store.getState(new ValueStateDescriptor<unknown>('big'));
        const text = '0123456789abcdef日本語😀'.repeat(Math.ceil((1 << 20) / 22)).slice(0, 1 << 20);
        const bytes = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 31) & 0xff);
        t.key('text');
        await s.update(text);
        t.key('bytes');
        await s.update(bytes);
        const restored = await open();
        await restored.kb.restore([await t.kb.snapshot()]);
        for (const u of [t, restored]) {
          const r = u.store.getState(new ValueStateDescriptor<unknown>('big'));
          u.key('text');
          const gotText = (await r.value()) as string;
          expect(gotText.length).toBe(text.length);
          expect(gotText === text).toBe(true);
          u.key('bytes');
          const gotBytes = (await r.value()) as Uint8Array;
          expect(gotBytes).toBeInstanceOf(Uint8Array);
          expect(firstMismatch(gotBytes, bytes.length, (i) => bytes[i])).toBe(-1);
        }
      });

      it(`a ${N_LIST}-element list keeps every element in order, also through snapshot and restore${reduced}`, async () => {
        const t = await open();
        const s = t.store.getListState(new ListStateDescriptor<number>('long'));
        t.key('k');
        await s.addAll(Array.from({ length: N_LIST - 10 }, (_, i) => i));
        for (let i = N_LIST - 10; i < N_LIST; i++) await s.add(i);
        expect(firstMismatch(await s.get(), N_LIST, (i) => i)).toBe(-1);
        const restored = await open();
        await restored.kb.restore([await t.kb.snapshot()]);
        restored.key('k');
        const list = await restored.store.getListState(new ListStateDescriptor<number>('long')).get();
        expect(firstMismatch(list, N_LIST, (i) => i)).toBe(-1);
      });

      it(`a map of ${N_MAP} entries yields all of them from entries(), keys() and values(), also after restore${reduced}`, async () => {
        const t = await open();
        const s = t.store.getMapState(new MapStateDescriptor<number, string>('wide'));
        t.key('k');
        await s.putAll(Array.from({ length: N_MAP }, (_, i): [number, string] => [i, `v${i}`]));
        const check = async (u: Subtask) => {
          const m = u.store.getMapState(new MapStateDescriptor<number, string>('wide'));
          u.key('k');
          const entries = (await collect(m.entries())).sort((a, b) => a[0] - b[0]);
          expect(
            firstMismatch(
              entries.map(([k, v]) => `${k}=${v}`),
              N_MAP,
              (i) => `${i}=v${i}`,
            ),
          ).toBe(-1);
          expect((await collect(m.keys())).length).toBe(N_MAP);
          expect(new Set(await collect(m.values())).size).toBe(N_MAP);
          expect(await m.get(N_MAP - 1)).toBe(`v${N_MAP - 1}`);
        };
        await check(t);
        const restored = await open();
        await restored.kb.restore([await t.kb.snapshot()]);
        await check(restored);
      });
    });

    describe('value semantics', () => {
      it('structured values (nested objects, arrays, Map, Set, Date, bigint, typed arrays, special numbers, lone surrogates) read back deep-equal', async () => {
        const t = await open();
        const v = t.store.getState(new ValueStateDescriptor<unknown>('v'));
        const l = t.store.getListState(new ListStateDescriptor<unknown>('l'));
        const m = t.store.getMapState(new MapStateDescriptor<string, unknown>('m'));
        t.key('k');
        await v.update(structuredValue());
        await l.addAll([structuredValue(), structuredValue()]);
        await m.put('x', structuredValue());
        expect(await v.value()).toEqual(structuredValue());
        expect(await l.get()).toEqual([structuredValue(), structuredValue()]);
        expect(await m.get('x')).toEqual(structuredValue());
      });

      it('structured values round-trip deep-equal through snapshot and restore, in every state kind', async () => {
        const t = await open();
        const v = t.store.getState(new ValueStateDescriptor<unknown>('v'));
        const l = t.store.getListState(new ListStateDescriptor<unknown>('l'));
        const m = t.store.getMapState(new MapStateDescriptor<string, unknown>('m'));
        const r = t.store.getReducingState(new ReducingStateDescriptor<unknown>('r', (_, b) => b));
        const aggregate: AggregateFunction<unknown, unknown, unknown> = { createAccumulator: () => null, add: (x) => x, getResult: (acc) => acc };
        const g = t.store.getAggregatingState(new AggregatingStateDescriptor('g', aggregate));
        t.key(['k', 1n]);
        await v.update(structuredValue());
        await l.addAll([structuredValue(), 1, structuredValue()]);
        await m.putAll([
          ['x', structuredValue()],
          ['y', null],
        ]);
        await r.add(structuredValue());
        await g.add(structuredValue());
        const restored = await open();
        await restored.kb.restore([await t.kb.snapshot()]);
        const s = restored.store;
        restored.key(['k', 1n]);
        expect(await s.getState(new ValueStateDescriptor<unknown>('v')).value()).toEqual(structuredValue());
        expect(await s.getListState(new ListStateDescriptor<unknown>('l')).get()).toEqual([structuredValue(), 1, structuredValue()]);
        const rm = s.getMapState(new MapStateDescriptor<string, unknown>('m'));
        expect(await rm.get('x')).toEqual(structuredValue());
        expect(await rm.contains('y')).toBe(true);
        expect(await rm.get('y')).toBeNull();
        expect(await s.getReducingState(new ReducingStateDescriptor<unknown>('r', (_, b) => b)).get()).toEqual(structuredValue());
        expect(await s.getAggregatingState(new AggregatingStateDescriptor('g', aggregate)).get()).toEqual(structuredValue());
      });
    });

    describe('snapshot and restore', () => {
      it('a fresh backend restores every state kind, in several namespaces, for keys of every type', async () => {
        const cells = fixtureCells(N_FIXTURE);
        const t = await open();
        await writeFixture(t, cells);
        await verifyFixture(t, cells);
        const restored = await open();
        await restored.kb.restore([await t.kb.snapshot()]);
        await verifyFixture(restored, cells);
      });

      it('states() lists every registered state with its kind, also in a backend right after restore', async () => {
        const t = await open();
        fixtureStates(t.store);
        t.kb.listTable('raw-list');
        const expected = [
          { name: FX.avg, kind: 'aggregating' },
          { name: FX.list, kind: 'list' },
          { name: FX.map, kind: 'map' },
          { name: FX.sum, kind: 'reducing' },
          { name: FX.value, kind: 'value' },
          { name: 'raw-list', kind: 'list' },
        ];
        const sorted = (xs: ReadonlyArray<{ name: string; kind: StateKind }>) =>
          [...xs].map(({ name, kind }) => ({ name, kind })).sort((a, b) => cmp(a.name, b.name));
        expect(sorted(t.kb.states())).toEqual(expected);
        t.key('k');
        await fixtureStates(t.store).value.update(1);
        const restored = await open();
        await restored.kb.restore([await t.kb.snapshot()]);
        expect(sorted(restored.kb.states())).toEqual(expected);
      });

      it('a restored state keeps its kind: asking for it as another kind throws STATE_KIND_MISMATCH', async () => {
        const t = await open();
        t.key('k');
        await t.store.getState(new ValueStateDescriptor<number>('counter')).update(1);
        const restored = await open();
        await restored.kb.restore([await t.kb.snapshot()]);
        await expectEddyError(() => restored.store.getListState(new ListStateDescriptor<number>('counter')), 'STATE_KIND_MISMATCH', 'counter');
        restored.key('k');
        expect(await restored.store.getState(new ValueStateDescriptor<number>('counter')).value()).toBe(1);
      });

      it('a snapshot does not contain writes made after snapshot() was called, even before it resolved', async () => {
        const t = await open();
        const s = fixtureStates(t.store);
        t.key('gone-later');
        await s.value.update('still here');
        t.key('k');
        await s.value.update('before');
        await s.list.add(1);
        await s.map.put('m', 1);
        await s.sum.add(1);
        await s.avg.add(1);
        const pending = t.kb.snapshot();
        await s.value.update('after');
        await s.list.add(2);
        await s.map.put('m2', 2);
        await s.map.remove('m');
        await s.sum.add(10);
        await s.avg.add(3);
        t.key('gone-later');
        await s.value.clear();
        t.key('new-later');
        await s.value.update('new');
        const snapshot = await pending;

        const restored = await open();
        await restored.kb.restore([snapshot]);
        const r = fixtureStates(restored.store);
        restored.key('k');
        expect(await r.value.value()).toBe('before');
        expect(await r.list.get()).toEqual([1]);
        expect(await collect(r.map.entries())).toEqual([['m', 1]]);
        expect(await r.sum.get()).toBe(1);
        expect(await r.avg.get()).toBe(1);
        restored.key('gone-later');
        expect(await r.value.value()).toBe('still here');
        restored.key('new-later');
        expect(await r.value.value()).toBeUndefined();
        // The live backend kept the later writes.
        t.key('k');
        expect(await s.value.value()).toBe('after');
        expect(await s.list.get()).toEqual([1, 2]);
        expect(await s.sum.get()).toBe(11);
      });

      it('restored state continues: adds append to restored lists, folds continue, puts extend restored maps', async () => {
        const t = await open();
        const s = fixtureStates(t.store);
        t.key('k');
        await s.list.addAll([1, 2]);
        await s.map.put('a', 1);
        await s.sum.add(5);
        await s.avg.add(2);
        const restored = await open();
        await restored.kb.restore([await t.kb.snapshot()]);
        const r = fixtureStates(restored.store);
        restored.key('k');
        await r.list.add(3);
        await r.map.put('b', 2);
        await r.sum.add(1);
        await r.avg.add(4);
        expect(await r.list.get()).toEqual([1, 2, 3]);
        expect(sortEntries(await collect(r.map.entries()))).toEqual([
          ['a', 1],
          ['b', 2],
        ]);
        expect(await r.sum.get()).toBe(6);
        expect(await r.avg.get()).toBe(3);
      });

      it('every entry of a snapshot lies in the key group of its key, within the range; absent groups hold no state', async () => {
        const cells = fixtureCells(N_FIXTURE);
        const t = await open({ parallelism: 2, subtaskIndex: 1 });
        const mine = inRange(cells, t.kb.keyGroupRange);
        await writeFixture(t, mine);
        const snapshot = await t.kb.snapshot();
        expect(snapshot.maxParallelism).toBe(MAX_P);
        const expectedGroups = new Set(mine.map((c) => keyGroupForKey(c.key, MAX_P)));
        expect([...snapshot.keyGroups.keys()].sort((a, b) => a - b)).toEqual([...expectedGroups].sort((a, b) => a - b));
        for (const [keyGroup, bytes] of snapshot.keyGroups) {
          for (const entry of readKeyGroup(bytes, snapshot.states)) expect(keyGroupForKey(entry.key, MAX_P)).toBe(keyGroup);
        }
      });

      it('clearing all state leaves a snapshot without key groups, which restores into an empty backend', async () => {
        const t = await open();
        const s = fixtureStates(t.store);
        for (const k of ['a', 'b', 'c']) {
          t.key(k);
          await s.value.update(1);
          await s.list.add(1);
          await s.map.put(1, 1);
          await s.sum.add(1);
          await s.avg.add(1);
        }
        for (const k of ['a', 'b', 'c']) {
          t.key(k);
          await s.value.update(undefined);
          await s.list.update([]);
          await s.map.remove(1);
          await s.sum.clear();
          await s.avg.clear();
        }
        const snapshot = await t.kb.snapshot();
        expect(snapshot.keyGroups.size).toBe(0);
        const restored = await open();
        await restored.kb.restore([snapshot]);
        for (const n of Object.values(FX)) expect(await collect(restored.kb.keys(n, ''))).toEqual([]);
      });

      it('snapshot → restore → snapshot yields the same contents', async () => {
        const cells = fixtureCells(N_FIXTURE);
        const t = await open();
        await writeFixture(t, cells);
        const first = await t.kb.snapshot();
        const restored = await open();
        await restored.kb.restore([first]);
        expect(contentsOf(await restored.kb.snapshot())).toEqual(contentsOf(first));
      });

      it('a new backend of the same job, operator and subtask restores exactly the snapshot, not writes made after it', async () => {
        const before = await open({ operatorId: 'same' });
        const v = before.store.getState(new ValueStateDescriptor<string>('v'));
        before.key('a');
        await v.update('checkpointed');
        const snapshot = await before.kb.snapshot();
        await v.update('lost in the failure');
        before.key('b');
        await v.update('lost too');
        await before.kb.flush?.();
        await before.dispose();

        const after = await open({ operatorId: 'same' });
        await after.kb.restore([snapshot]);
        const w = after.store.getState(new ValueStateDescriptor<string>('v'));
        after.key('a');
        expect(await w.value()).toBe('checkpointed');
        after.key('b');
        expect(await w.value()).toBeUndefined();
        expect(await collect(after.kb.keys('v', ''))).toEqual(['a']);
      });

      it('restore refuses a snapshot taken with another maxParallelism (SNAPSHOT_INCOMPATIBLE)', async () => {
        const wide = await open({ maxParallelism: 256 });
        wide.key('k');
        await wide.store.getState(new ValueStateDescriptor<number>('v')).update(1);
        const narrow = await open();
        await expectEddyError(async () => narrow.kb.restore([await wide.kb.snapshot()]), 'SNAPSHOT_INCOMPATIBLE');
        const other = await open({ maxParallelism: 256 });
        await expectEddyError(async () => other.kb.restore([await narrow.kb.snapshot()]), 'SNAPSHOT_INCOMPATIBLE');
      });

      it('restore refuses a snapshot of an unknown format version (SNAPSHOT_INCOMPATIBLE)', async () => {
        const t = await open();
        t.key('k');
        await t.store.getState(new ValueStateDescriptor<number>('v')).update(1);
        const snapshot = await t.kb.snapshot();
        const restored = await open();
        await expectEddyError(() => restored.kb.restore([{ ...snapshot, formatVersion: snapshot.formatVersion + 1 }]), 'SNAPSHOT_INCOMPATIBLE');
      });
    });

    describe('rescaling by key-group range', () => {
      it('a full snapshot restored into subtasks 0..2 of 3 gives each exactly the keys of its key groups, and together all of them', async () => {
        const cells = fixtureCells(N_FIXTURE);
        const full = await open();
        await writeFixture(full, cells);
        const snapshot = await full.kb.snapshot();
        const seen: Key[] = [];
        for (let i = 0; i < 3; i++) {
          const part = await open({ operatorId: 'rescaled', parallelism: 3, subtaskIndex: i });
          await part.kb.restore([snapshot]);
          const mine = inRange(cells, part.kb.keyGroupRange);
          expect(mine.length).toBeGreaterThan(0);
          await verifyFixture(part, mine);
          seen.push(...(await collect(part.kb.keys(FX.value, ''))));
        }
        const expected = cells.filter((c) => c.namespace === '' && c.value !== undefined).map((c) => c.key);
        expect(sortKeys(seen)).toEqual(sortKeys(expected));
      });

      it('the snapshots of subtasks 0..2 of 3 restored into one subtask give it all the state', async () => {
        const cells = fixtureCells(N_FIXTURE);
        const snapshots: KeyedStateSnapshot[] = [];
        for (let i = 0; i < 3; i++) {
          const part = await open({ operatorId: 'scaled-in', parallelism: 3, subtaskIndex: i });
          await writeFixture(part, inRange(cells, part.kb.keyGroupRange));
          const snapshot = await part.kb.snapshot();
          for (const kg of snapshot.keyGroups.keys()) expect(part.kb.keyGroupRange.contains(kg)).toBe(true);
          snapshots.push(snapshot);
        }
        const whole = await open();
        await whole.kb.restore(snapshots);
        await verifyFixture(whole, cells);
      });
    });

    describe('keys()', () => {
      it('keys(state, namespace) yields each key with state exactly once, and no key whose state was removed', async () => {
        const t = await open();
        const s = fixtureStates(t.store);
        const keys = Array.from({ length: 40 }, (_, i): Key => (i % 2 === 0 ? `k${i}` : [i, 'x']));
        for (const k of keys) {
          t.key(k);
          await s.value.update(1);
          await s.value.update(2);
          await s.list.add(1);
          await s.list.add(2);
          await s.map.putAll([
            ['a', 1],
            ['b', 2],
          ]);
          await s.sum.add(1);
          await s.avg.add(1);
        }
        const removed = keys.filter((_, i) => i % 5 === 0);
        for (const k of removed) {
          t.key(k);
          await s.value.update(undefined);
          await s.list.update([]);
          await s.map.remove('a');
          await s.map.remove('b');
          await s.sum.clear();
          await s.avg.clear();
        }
        const kept = sortKeys(keys.filter((k) => !removed.includes(k)));
        for (const n of Object.values(FX)) {
          const got = await collect(t.kb.keys(n, ''));
          expect(got.length, n).toBe(kept.length);
          expect(sortKeys(got), n).toEqual(kept);
        }
      });

      it('keys() of an unknown state or of a namespace without state yields nothing', async () => {
        const t = await open();
        t.key('k');
        await t.store.getState(new ValueStateDescriptor<number>('v')).update(1);
        expect(await collect(t.kb.keys('no such state', ''))).toEqual([]);
        expect(await collect(t.kb.keys('v', 'no such namespace'))).toEqual([]);
      });
    });

    describe('raw tables and optional hooks', () => {
      it('ListTable.get() returns undefined for an empty list and a fresh array otherwise', async () => {
        const t = await open();
        const table = t.kb.listTable<number>('raw');
        t.key('k');
        expect(await table.get('')).toBeUndefined();
        await table.addAll('', [1, 2]);
        const a = await table.get('');
        const b = await table.get('');
        expect(a).toEqual([1, 2]);
        expect(a).not.toBe(b);
        await table.update('', []);
        expect(await table.get('')).toBeUndefined();
      });

      it('a table requested twice under one name reads and writes the same state', async () => {
        const t = await open();
        t.key('k');
        await t.kb.valueTable<number>('same', 'value').put('ns', 5);
        expect(await t.kb.valueTable<number>('same', 'value').get('ns')).toBe(5);
        await t.kb.mapTable<number>('same-map').put('ns', ['u', 1], 6);
        expect(await t.kb.mapTable<number>('same-map').get('ns', ['u', 1])).toBe(6);
      });

      it('prefetch(), where implemented, is only a hint: reads after it see the same state', async () => {
        const t = await open();
        const v = t.store.getState(new ValueStateDescriptor<number>('v'));
        const keys: Key[] = Array.from({ length: 20 }, (_, i) => `k${i}`);
        for (const [i, k] of keys.entries()) {
          if (i % 2 === 1) continue;
          t.key(k);
          await v.update(i);
        }
        await t.kb.prefetch?.(
          keys,
          keys.map((k) => keyGroupForKey(k, MAX_P)),
        );
        for (const [i, k] of keys.entries()) {
          t.key(k);
          expect(await v.value()).toBe(i % 2 === 1 ? undefined : i);
        }
      });

      it('flush(), where implemented, changes nothing that reads or snapshots see', async () => {
        const cells = fixtureCells(20);
        const t = await open();
        await writeFixture(t, cells);
        const before = contentsOf(await t.kb.snapshot());
        await t.kb.flush?.();
        expect(contentsOf(await t.kb.snapshot())).toEqual(before);
        await verifyFixture(t, cells);
      });
    });

    describe('snapshot format is backend-independent', () => {
      it('its snapshot restores into the reference HashMapStateBackend with equal contents', async () => {
        const cells = fixtureCells(N_FIXTURE);
        const t = await open();
        await writeFixture(t, cells);
        t.key('structured');
        await t.store.getState(new ValueStateDescriptor<unknown>('structured')).update(structuredValue());
        const snapshot = await t.kb.snapshot();
        const reference = await openReference();
        await reference.kb.restore([snapshot]);
        await verifyFixture(reference, cells);
        reference.key('structured');
        expect(await reference.store.getState(new ValueStateDescriptor<unknown>('structured')).value()).toEqual(structuredValue());
        expect(contentsOf(await reference.kb.snapshot())).toEqual(contentsOf(snapshot));
      });

      it('it restores a snapshot of the reference HashMapStateBackend with equal contents', async () => {
        const cells = fixtureCells(N_FIXTURE);
        const reference = await openReference();
        await writeFixture(reference, cells);
        reference.key('structured');
        await reference.store.getState(new ValueStateDescriptor<unknown>('structured')).update(structuredValue());
        const snapshot = await reference.kb.snapshot();
        const t = await open();
        await t.kb.restore([snapshot]);
        await verifyFixture(t, cells);
        t.key('structured');
        expect(await t.store.getState(new ValueStateDescriptor<unknown>('structured')).value()).toEqual(structuredValue());
        expect(contentsOf(await t.kb.snapshot())).toEqual(contentsOf(snapshot));
      });
    });
  });
}

/** Some key whose key group lies in `range`. */
function inRangeKey(range: KeyGroupRange): string {
  for (let i = 0; ; i++) if (range.contains(keyGroupForKey(`k${i}`, MAX_P))) return `k${i}`;
}
