import { describe, expect, it } from 'vitest';
import { ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor } from '../../src/api/descriptors.ts';
import { HashMapStateBackend } from '../../src/backends/memory.ts';
import { keyGroupForKey } from '../../src/format/key-groups.ts';
import type { Key } from '../../src/format/key-bytes.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import type { KeyedStateSnapshot } from '../../src/format/snapshot-format.ts';
import { runStateBackendSuite } from '../conformance/state-backend/index.ts';
import { keyedOptions } from '../helpers/keyed-options.ts';

runStateBackendSuite('hashmap', () => new HashMapStateBackend());

/** A HashMap keyed backend owning every key group, with a store on top. */
function heap() {
  const kb = new HashMapStateBackend().createKeyedStateBackend(keyedOptions('hashmap-specific'));
  return { kb, store: new KeyedStateStore(kb, 'Op (1/1)'), key: (k: Key) => kb.setCurrentKey(k, keyGroupForKey(k, 128)) };
}

/** Restores a snapshot into a fresh HashMap backend. */
async function restoredFrom(snapshot: KeyedStateSnapshot) {
  const h = heap();
  await h.kb.restore([snapshot]);
  return h;
}

describe('HashMapStateBackend (live objects)', () => {
  it('captures a snapshot inside the snapshot() call: mutating stored objects right after it does not change the snapshot', async () => {
    const h = heap();
    const v = h.store.getState(new ValueStateDescriptor<{ n: number; tags: string[] }>('v'));
    const l = h.store.getListState(new ListStateDescriptor<{ n: number }>('l'));
    const m = h.store.getMapState(new MapStateDescriptor<string, Map<string, number>>('m'));
    const value = { n: 1, tags: ['a'] };
    const element = { n: 1 };
    const inner = new Map([['x', 1]]);
    h.key('k');
    await v.update(value);
    await l.add(element);
    await m.put('inner', inner);

    const pending = h.kb.snapshot();
    value.n = 2;
    value.tags.push('b');
    element.n = 2;
    inner.set('y', 2);
    const snapshot = await pending;

    const r = await restoredFrom(snapshot);
    r.key('k');
    expect(await r.store.getState(new ValueStateDescriptor<unknown>('v')).value()).toEqual({ n: 1, tags: ['a'] });
    expect(await r.store.getListState(new ListStateDescriptor<unknown>('l')).get()).toEqual([{ n: 1 }]);
    expect(await r.store.getMapState(new MapStateDescriptor<string, unknown>('m')).get('inner')).toEqual(new Map([['x', 1]]));
  });

  it('stores a copy of what is written: a mutation after update() does not reach the state or its snapshot (as in every backend)', async () => {
    const h = heap();
    const v = h.store.getState(new ValueStateDescriptor<{ n: number }>('v'));
    const value = { n: 1 };
    h.key('k');
    await v.update(value);
    value.n = 2;
    expect(await v.value()).toEqual({ n: 1 });
    const r = await restoredFrom(await h.kb.snapshot());
    r.key('k');
    expect(await r.store.getState(new ValueStateDescriptor<unknown>('v')).value()).toEqual({ n: 1 });
  });

  it('while a snapshot encodes, an object read back and changed in place does not reach the snapshot', async () => {
    const h = heap();
    const v = h.store.getState(new ValueStateDescriptor<{ n: number }>('v'));
    const l = h.store.getListState(new ListStateDescriptor<number>('l'));
    h.key('k');
    await v.update({ n: 1 });
    await l.addAll([1, 2]);
    const pending = h.kb.snapshot();
    (await v.value())!.n = 99;
    await l.add(3);
    await v.update({ n: 5 });
    const r = await restoredFrom(await pending);
    r.key('k');
    expect(await r.store.getState(new ValueStateDescriptor<unknown>('v')).value()).toEqual({ n: 1 });
    expect(await r.store.getListState(new ListStateDescriptor<number>('l')).get()).toEqual([1, 2]);
    expect(await v.value()).toEqual({ n: 5 });
    expect(await l.get()).toEqual([1, 2, 3]);
  });

  it('answers table reads synchronously (no Promise on the hot path)', () => {
    const h = heap();
    h.key('k');
    const table = h.kb.valueTable<number>('v', 'value');
    expect(table.put('', 1)).toBeUndefined();
    expect(table.get('')).toBe(1);
    expect(h.kb.listTable<number>('l').get('')).toBeUndefined();
    expect(h.kb.mapTable<number>('m').contains('', 'x')).toBe(false);
  });
});
