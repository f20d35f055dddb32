/**
 * The state both sides of the portability tests write and read: every kind, keys of several
 * types, two namespaces. Runs on any keyed backend through a `KeyedStateStore`.
 */
import {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  ValueStateDescriptor,
} from '../../src/api/descriptors.ts';
import type { AggregateFunction } from '../../src/api/state.ts';
import type { Key } from '../../src/format/key-bytes.ts';
import { keyGroupForKey } from '../../src/format/key-groups.ts';
import type { KeyedStateBackend } from '../../src/state/backend.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import type { InternalKvState } from '../../src/state/keyed-states.ts';

/** Max parallelism of every fixture backend. */
export const MAX_P = 128;

/** The fixture's keys: strings, numbers and a composite key. */
export const FIXTURE_KEYS: Key[] = [...Array.from({ length: 40 }, (_, i) => `user-${i}`), ...Array.from({ length: 20 }, (_, i) => i * 7), ['tenant', 3]];

const mean: AggregateFunction<number, { sum: number; n: number }, number> = {
  createAccumulator: () => ({ sum: 0, n: 0 }),
  add: (v, a) => ({ sum: a.sum + v, n: a.n + 1 }),
  getResult: (a) => a.sum / a.n,
};

/** The descriptors of the fixture's states. */
export const states = () => ({
  value: new ValueStateDescriptor<{ n: number; tags: string[] }>('value'),
  list: new ListStateDescriptor<number>('list'),
  map: new MapStateDescriptor<string, number>('map'),
  reducing: new ReducingStateDescriptor<number>('reducing', (a, b) => a + b),
  aggregating: new AggregatingStateDescriptor('aggregating', mean),
});

/** Sets the current key with its key group. */
export function enter(kb: KeyedStateBackend, key: Key): void {
  kb.setCurrentKey(key, keyGroupForKey(key, MAX_P));
}

/** Writes the fixture for the given keys. */
export async function writeFixture(kb: KeyedStateBackend, keys: readonly Key[] = FIXTURE_KEYS): Promise<void> {
  const store = new KeyedStateStore(kb, 'Fixture (1/1)');
  const d = states();
  for (const [i, key] of keys.entries()) {
    enter(kb, key);
    await store.getState(d.value).update({ n: i, tags: [`t${i}`] });
    await store.getListState(d.list).addAll([i, i + 1, i + 2]);
    await store.getMapState(d.map).putAll([
      ['x', i],
      ['y', -i],
    ]);
    await store.getReducingState(d.reducing).add(i);
    await store.getReducingState(d.reducing).add(1);
    const agg = store.getAggregatingState(d.aggregating);
    await agg.add(i);
    await agg.add(i + 2);
    const windowed = store.getListState(d.list);
    (windowed as unknown as InternalKvState).setCurrentNamespace('window-1');
    await windowed.add(-i);
    (windowed as unknown as InternalKvState).setCurrentNamespace('');
  }
}

/** What the fixture reads back for each key that has state (keys without state are left out). */
export async function readFixture(kb: KeyedStateBackend, keys: readonly Key[] = FIXTURE_KEYS): Promise<Array<[string, unknown]>> {
  const store = new KeyedStateStore(kb, 'Fixture (1/1)');
  const d = states();
  const out: Array<[string, unknown]> = [];
  for (const key of keys) {
    if (!kb.keyGroupRange.contains(keyGroupForKey(key, MAX_P))) continue;
    enter(kb, key);
    const entries: Array<[string, number]> = [];
    for await (const e of store.getMapState(d.map).entries()) entries.push(e);
    const list = store.getListState(d.list);
    const read = {
      value: await store.getState(d.value).value(),
      list: await list.get(),
      map: entries.sort(([a], [b]) => (a < b ? -1 : 1)),
      reducing: await store.getReducingState(d.reducing).get(),
      aggregating: await store.getAggregatingState(d.aggregating).get(),
      windowed: undefined as unknown,
    };
    (list as unknown as InternalKvState).setCurrentNamespace('window-1');
    read.windowed = await list.get();
    (list as unknown as InternalKvState).setCurrentNamespace('');
    out.push([JSON.stringify(key), read]);
  }
  return out;
}
