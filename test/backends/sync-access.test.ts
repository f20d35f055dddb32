/**
 * Synchronous state access where state may not be resident: IndexedDB (on fake-indexeddb)
 * answers synchronously only for what its cache holds, which `prefetch()` loads per batch;
 * a backend without synchronous access refuses it. A miss is a typed STATE_NOT_RESIDENT
 * naming backend, state and key, thrown before anything was read or written.
 */
import { IDBKeyRange as FakeKeyRange, IDBFactory as FakeFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor } from '../../src/api/descriptors.ts';
import { StateError } from '../../src/api/errors.ts';
import { HashMapStateBackend } from '../../src/backends/memory.ts';
import { IndexedDbStateBackend, type IndexedDbStateBackendOptions } from '../../src/backends/indexeddb/index.ts';
import type { Key } from '../../src/format/key-bytes.ts';
import { keyGroupForKey } from '../../src/format/key-groups.ts';
import type { KeyedStateBackend } from '../../src/state/backend.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import { keyedOptions } from '../helpers/keyed-options.ts';

const opened: KeyedStateBackend[] = [];
afterEach(async () => {
  for (const kb of opened.splice(0)) await kb.dispose();
});

const options = (operatorId: string) => keyedOptions('sync-access', { operatorId, operatorName: 'Counter (1/1)' });

let seq = 0;
/** An IndexedDB subtask whose state of `keys` was written, snapshotted and restored: nothing of it is cached. */
async function restoredIdb(keys: readonly string[], limits: Omit<IndexedDbStateBackendOptions, 'indexedDB' | 'IDBKeyRange'> = {}) {
  const factory = new IndexedDbStateBackend({ indexedDB: new FakeFactory(), IDBKeyRange: FakeKeyRange, ...limits });
  const src = await factory.createKeyedStateBackend(options(`src-${++seq}`));
  opened.push(src);
  const s = new KeyedStateStore(src, 'Src (1/1)');
  const v = s.getState(new ValueStateDescriptor<number>('v'));
  const l = s.getListState(new ListStateDescriptor<string>('l'));
  const m = s.getMapState(new MapStateDescriptor<string, number>('m'));
  for (const [i, k] of keys.entries()) {
    src.setCurrentKey(k, keyGroupForKey(k, 128));
    await v.update(i);
    await l.add(k);
    await m.put('x', i);
  }
  const snapshot = await src.snapshot();
  const kb = await factory.createKeyedStateBackend(options(`op-${seq}`));
  opened.push(kb);
  await kb.restore([snapshot]);
  const store = new KeyedStateStore(kb, 'Counter (1/1)');
  return {
    kb,
    store,
    key: (k: Key) => kb.setCurrentKey(k, keyGroupForKey(k, 128)),
    prefetch: (ks: Key[]) =>
      kb.prefetch!(
        ks,
        ks.map((k) => keyGroupForKey(k, 128)),
      ),
  };
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

function expectNotResident(e: unknown, backend: string, state: string, key: string): void {
  expect(e).toBeInstanceOf(StateError);
  expect((e as StateError).code).toBe('STATE_NOT_RESIDENT');
  expect((e as Error).message).toContain(`backend:${backend}`);
  expect((e as Error).message).toContain(`state:${state}`);
  expect((e as Error).message).toContain(`key:"${key}"`);
}

describe('synchronous access on IndexedDB', () => {
  it('a key that was not prefetched: value() throws STATE_NOT_RESIDENT naming backend, state and key; the Promise-based read still works; after prefetch() it answers', async () => {
    const t = await restoredIdb(['a', 'b']);
    const v = t.store.getSyncState(new ValueStateDescriptor<number>('v'));
    t.key('b');
    expectNotResident(
      thrown(() => v.value()),
      'indexeddb',
      'v',
      'b',
    );
    expect(await t.store.getState(new ValueStateDescriptor<number>('v')).value()).toBe(1);
    await t.prefetch(['a']);
    t.key('a');
    expect(v.value()).toBe(0);
  });

  it('a write to a list that is not resident is refused before it happens: the list is unchanged', async () => {
    const t = await restoredIdb(['a']);
    const l = t.store.getSyncListState(new ListStateDescriptor<string>('l'));
    t.key('a');
    expectNotResident(
      thrown(() => l.add('lost?')),
      'indexeddb',
      'l',
      'a',
    );
    expect(await t.store.getListState(new ListStateDescriptor<string>('l')).get()).toEqual(['a']);
    await t.prefetch(['a']);
    t.key('a');
    l.add('kept');
    expect(l.get()).toEqual(['a', 'kept']);
  });

  it('a map is loaded whole only for states used synchronously: before the first prefetch after getSyncMapState() it is not resident, after it every map operation answers', async () => {
    const t = await restoredIdb(['a']);
    await t.prefetch(['a']);
    const m = t.store.getSyncMapState(new MapStateDescriptor<string, number>('m'));
    t.key('a');
    expectNotResident(
      thrown(() => [...m.entries()]),
      'indexeddb',
      'm',
      'a',
    );
    expectNotResident(
      thrown(() => m.get('x')),
      'indexeddb',
      'm',
      'a',
    );
    await t.prefetch(['a']);
    t.key('a');
    expect(m.get('x')).toBe(0);
    expect(m.get('y')).toBeUndefined();
    expect(m.isEmpty()).toBe(false);
    expect([...m.entries()]).toEqual([['x', 0]]);
  });

  it("a flush that evicts the cache mid-batch keeps the batch's keys resident (tiny cache, every write flushing)", async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    const t = await restoredIdb(keys, { writeBehind: 1, cacheSize: 2 });
    const v = t.store.getSyncState(new ValueStateDescriptor<number>('v'));
    const m = t.store.getSyncMapState(new MapStateDescriptor<string, number>('m'));
    const batch = keys.slice(0, 6);
    await t.prefetch(batch);
    for (const k of batch) {
      t.key(k);
      v.update(v.value()! + 100);
      m.put('y', 1);
    }
    for (const [i, k] of batch.entries()) {
      t.key(k);
      expect(v.value()).toBe(i + 100);
      expect([...m.entries()].sort()).toEqual([
        ['x', i],
        ['y', 1],
      ]);
    }
    // The next batch releases them: only its own keys stay.
    await t.prefetch(['k7']);
    t.key('k7');
    v.update(1);
    await t.kb.flush!();
    t.key('k0');
    expect(() => v.value()).toThrowError(expect.objectContaining({ code: 'STATE_NOT_RESIDENT' }));
  });
});

describe('synchronous access on a backend without it (a proxy to another thread)', () => {
  it('every call throws STATE_NOT_RESIDENT saying the backend offers no synchronous access', () => {
    const inner = new HashMapStateBackend().createKeyedStateBackend(options('proxy'));
    // What a proxy looks like to core: the same contract, no syncAccess.
    const kb = Object.create(inner, { syncAccess: { value: undefined } }) as KeyedStateBackend;
    const store = new KeyedStateStore(kb, 'Proxy (1/1)');
    const v = store.getSyncState(new ValueStateDescriptor<number>('v'));
    kb.setCurrentKey('a', keyGroupForKey('a', 128));
    const e = thrown(() => v.update(1));
    expectNotResident(e, 'hashmap', 'v', 'a');
    expect((e as Error).message).toContain('offers no synchronous access');
  });
});
