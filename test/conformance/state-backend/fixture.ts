/**
 * The state-backend suite's data: structured values of every kind the codec accepts, and a
 * fixture of every state kind in several namespaces for many keys of every key type, with
 * writers, verifiers and an order-free view of snapshots to compare backends by.
 */
import { expect } from 'vitest';
import { AggregatingStateDescriptor, ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor, type StateKind } from '../../../src/api/descriptors.ts';
import { keyGroupForKey, type KeyGroupRange } from '../../../src/format/key-groups.ts';
import type { Key } from '../../../src/format/key-bytes.ts';
import { KeyedStateStore } from '../../../src/state/keyed-state-store.ts';
import { readKeyGroup, type KeyedStateSnapshot } from '../../../src/format/snapshot-format.ts';
import { average, cmp, collect, inNamespace, keyOrder, MAX_P, sortEntries, sortKeys, sumOf, type Subtask } from '../harness.ts';

/** Values of every kind the codec accepts, nested. */
export function structuredValue(): Record<string, unknown> {
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

const FIXTURE_NAMESPACES = ['', 'window-1', 'ns/日本'];
const TYPED_KEYS: Key[] = [0, -1, 1.5, -0.25, 2n ** 64n, -7n, true, false, '', 'é日本😀', '\u0001a', [], ['a', 1], [['x'], 2n, true]];

/** What one (key, namespace) holds; `undefined`/empty means "no state of that kind". */
export interface Cell {
  key: Key;
  namespace: string;
  value?: unknown;
  list: unknown[];
  map: Array<[Key, unknown]>;
  sumInputs: number[];
  avgInputs: number[];
}

/** Cells for every typed key and `count` string keys, spread over the fixture's namespaces. */
export function fixtureCells(count: number): Cell[] {
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

/** The names of the fixture's five states. */
export const FX = { value: 'fx-value', list: 'fx-list', map: 'fx-map', sum: 'fx-sum', avg: 'fx-avg' } as const;

/** The fixture's five states, registered on `store`. */
export function fixtureStates(store: KeyedStateStore) {
  return {
    value: store.getState(new ValueStateDescriptor<unknown>(FX.value)),
    list: store.getListState(new ListStateDescriptor<unknown>(FX.list)),
    map: store.getMapState(new MapStateDescriptor<Key, unknown>(FX.map)),
    sum: store.getReducingState(sumOf(FX.sum)),
    avg: store.getAggregatingState(new AggregatingStateDescriptor(FX.avg, average)),
  };
}

/** Writes every cell through the user-facing states. */
export async function writeFixture(t: Subtask, cells: readonly Cell[]): Promise<void> {
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
export async function verifyFixture(t: Subtask, cells: readonly Cell[]): Promise<void> {
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

/** The cells whose keys fall into `range`. */
export const inRange = (cells: readonly Cell[], range: KeyGroupRange) => cells.filter((c) => range.contains(keyGroupForKey(c.key, MAX_P)));

/** Some key whose key group lies in `range`. */
export function inRangeKey(range: KeyGroupRange): string {
  for (let i = 0; ; i++) if (range.contains(keyGroupForKey(`k${i}`, MAX_P))) return `k${i}`;
}

/** A snapshot's contents in an order-free, backend-independent form, for comparing snapshots. */
export function contentsOf(snapshot: KeyedStateSnapshot) {
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
