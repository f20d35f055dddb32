/**
 * What only the IndexedDB backend promises, beyond the conformance suites: batching (many
 * keys per transaction, never one per access), the record layout (one record per map
 * entry), incremental snapshots, and its failure modes as typed errors. Runs in Node on
 * fake-indexeddb (`test/backends/indexeddb.test.ts`) and in Chromium on the real thing
 * (`test/browser/indexeddb.test.ts`); uses the global `indexedDB`, so fake-indexeddb/auto
 * must be imported first in Node.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MapStateDescriptor, ValueStateDescriptor } from '../../src/api/descriptors.ts';
import { type EddyError, StateBackendError } from '../../src/api/errors.ts';
import { HashMapStateBackend } from '../../src/backends/memory.ts';
import { IndexedDbStateBackend, type IndexedDbStateBackendOptions } from '../../src/backends/indexeddb/index.ts';
import { ENTRIES, openDatabase, resolveEnvironment } from '../../src/backends/indexeddb/database.ts';
import { mergeKeyedChain } from '../../src/format/checkpoint-chain.ts';
import { keyGroupForKey } from '../../src/format/key-groups.ts';
import type { KeyedStateBackend } from '../../src/state/backend.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import { readKeyGroup, type KeyedStateSnapshot } from '../../src/format/snapshot-format.ts';
import { keyedOptions } from '../helpers/keyed-options.ts';

const RUN = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
let seq = 0;

/** Every entry of a snapshot as sorted JSON lines, to compare contents regardless of order. */
function contents(s: KeyedStateSnapshot): string[] {
  const lines: string[] = [];
  for (const [, bytes] of s.keyGroups)
    for (const e of readKeyGroup(bytes, s.states))
      lines.push(
        JSON.stringify({ ...e, state: s.states[e.stateIndex].name, stateIndex: undefined }, (_, v) =>
          v instanceof Map ? [...v] : typeof v === 'bigint' ? `${v}n` : v,
        ),
      );
  return lines.sort();
}

async function expectError(p: Promise<unknown> | (() => unknown), code: string, mentions: RegExp): Promise<void> {
  let e: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (x) {
    e = x;
  }
  // Every backend reports its failures as StateBackendError (one class for all backends).
  expect(e, `expected a StateBackendError ${code}`).toBeInstanceOf(StateBackendError);
  expect((e as EddyError).code, (e as Error).message).toBe(code);
  expect((e as EddyError).message).toMatch(mentions);
}

/** Registers the backend-specific tests under `label`. */
export function indexedDbSpecifics(label: string): void {
  describe(`IndexedDbStateBackend specifics: ${label}`, () => {
    const open: KeyedStateBackend[] = [];
    afterEach(async () => {
      vi.restoreAllMocks();
      for (const kb of open.splice(0)) await kb.dispose();
    });

    async function subtask(options: IndexedDbStateBackendOptions = {}, jobId = `eddy-idb-specific-${RUN}-${++seq}`) {
      const kb = await new IndexedDbStateBackend(options).createKeyedStateBackend(keyedOptions(jobId));
      open.push(kb);
      const store = new KeyedStateStore(kb, 'Op (1/1)');
      return { kb, store, jobId, key: (k: string) => kb.setCurrentKey(k, keyGroupForKey(k, 128)) };
    }

    /** Counts transactions by mode from now on. */
    function countTransactions() {
      const counts = { readonly: 0, readwrite: 0 };
      const original = IDBDatabase.prototype.transaction;
      vi.spyOn(IDBDatabase.prototype, 'transaction').mockImplementation(function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
        counts[(args[1] ?? 'readonly') as 'readonly' | 'readwrite']++;
        return original.apply(this, args);
      });
      return counts;
    }

    it('1,000 updates of distinct keys take 4 write transactions with writeBehind 250, not 1,000', async () => {
      const t = await subtask({ writeBehind: 250 });
      const v = t.store.getState(new ValueStateDescriptor<number>('count'));
      const counts = countTransactions();
      for (let i = 0; i < 1000; i++) {
        t.key(`k${i}`);
        await v.update((await v.value()) ?? i);
      }
      expect(counts.readwrite).toBe(4);
      // Nothing was stored when the keys were first read, so no read went to the database.
      expect(counts.readonly).toBe(0);
    });

    it('after the cache is dropped, prefetch() loads a batch of 500 keys in one read transaction', async () => {
      const t = await subtask({ writeBehind: 100, cacheSize: 10 });
      const v = t.store.getState(new ValueStateDescriptor<number>('count'));
      const keys = Array.from({ length: 500 }, (_, i) => `k${i}`);
      for (const [i, k] of keys.entries()) {
        t.key(k);
        await v.update(i);
      }
      await t.kb.flush!();
      const counts = countTransactions();
      await t.kb.prefetch!(
        keys,
        keys.map((k) => keyGroupForKey(k, 128)),
      );
      for (const [i, k] of keys.entries()) {
        t.key(k);
        expect(await v.value()).toBe(i);
      }
      expect(counts.readonly).toBe(1);
    });

    it('map state is one record per entry, under the key of its map', async () => {
      const t = await subtask();
      const m = t.store.getMapState(new MapStateDescriptor<string, number>('tags'));
      t.key('k');
      await m.putAll([
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ]);
      await t.kb.flush!();
      const env = resolveEnvironment(undefined, undefined, {});
      const db = await openDatabase(env, `eddy-${t.jobId}`, 1, {});
      const keys = await new Promise<IDBValidKey[]>((resolve) => {
        const r = db.transaction(ENTRIES, 'readonly').objectStore(ENTRIES).getAllKeys();
        r.onsuccess = () => resolve(r.result);
      });
      db.close();
      expect(keys).toEqual([
        ['op', keyGroupForKey('k', 128), 'tags', 'k', '', 'a'],
        ['op', keyGroupForKey('k', 128), 'tags', 'k', '', 'b'],
        ['op', keyGroupForKey('k', 128), 'tags', 'k', '', 'c'],
      ]);
    });

    it('after a completed checkpoint a snapshot is a delta of what changed; base + delta equals a full snapshot and restores into the heap backend', async () => {
      const t = await subtask({ writeBehind: 64 });
      const count = t.store.getState(new ValueStateDescriptor<number>('count'));
      const tags = t.store.getMapState(new MapStateDescriptor<string, number>('tags'));
      for (let i = 0; i < 300; i++) {
        t.key(`k${i}`);
        await count.update(i);
        if (i % 10 === 0) await tags.put('t', i);
      }
      const base = await t.kb.snapshot({ checkpointId: 1, incremental: true });
      expect(base.incremental).toBeUndefined();
      t.kb.notifyCheckpointComplete!(1);
      for (let i = 0; i < 20; i++) {
        t.key(`k${i}`);
        await count.update(-i);
      }
      t.key('k30');
      await count.clear();
      await tags.clear();
      t.key('new');
      await count.update(7);
      const delta = await t.kb.snapshot({ checkpointId: 2, incremental: true });
      expect(delta.incremental?.baseCheckpointId).toBe(1);
      expect(contents(delta)).toHaveLength(21);
      expect([...delta.incremental!.removed.values()].reduce((n, b) => n + b.length, 0)).toBeGreaterThan(0);
      const full = await t.kb.snapshot({ checkpointId: 3 });
      const merged = mergeKeyedChain([base, delta]);
      expect(contents(merged)).toEqual(contents(full));
      const heap = new HashMapStateBackend().createKeyedStateBackend(keyedOptions('j', { operatorName: 'Op' }));
      await heap.restore([merged]);
      expect(contents(await heap.snapshot())).toEqual(contents(full));
    });

    it('a database deleted mid-job fails every later access with BACKEND_FAILURE saying so, instead of losing writes silently', async () => {
      const t = await subtask();
      const v = t.store.getState(new ValueStateDescriptor<number>('v'));
      t.key('a');
      await v.update(1);
      await new Promise<void>((resolve, reject) => {
        const r = indexedDB.deleteDatabase(`eddy-${t.jobId}`);
        r.onsuccess = () => resolve();
        r.onerror = () => reject(r.error);
      });
      await expectError(async () => v.update(2), 'BACKEND_FAILURE', /\[backend:indexeddb\].*was deleted.*restart the job/);
      await expectError(t.kb.snapshot(), 'BACKEND_FAILURE', /was deleted/);
    });

    it('a refused write (QuotaExceededError) fails the write with STORAGE_FULL, and every later access too: nothing is lost quietly', async () => {
      const t = await subtask({ writeBehind: 1 });
      const v = t.store.getState(new ValueStateDescriptor<number>('v'));
      t.key('a');
      await v.update(1);
      // A put refused at once; a real quota error aborts the transaction with the same name, which maps the same way.
      vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
        throw new DOMException('quota exceeded (simulated)', 'QuotaExceededError');
      });
      t.key('b');
      await expectError(async () => v.update(2), 'STORAGE_FULL', /\[backend:indexeddb\].*quota exceeded.*restart from its last checkpoint/);
      vi.restoreAllMocks();
      t.key('a');
      await expectError(async () => v.value(), 'STORAGE_FULL', /quota/);
      await expectError(t.kb.snapshot(), 'STORAGE_FULL', /quota/);
    });

    it('an upgrade blocked by another connection that keeps an older version open fails with BACKEND_FAILURE instead of hanging', async () => {
      const name = `eddy-idb-blocked-${RUN}-${++seq}`;
      const env = resolveEnvironment(undefined, undefined, {});
      const old = await openDatabase(env, name, 1, {});
      old.onversionchange = null; // an old tab that does not let go
      try {
        await expectError(
          openDatabase(env, name, 2, { component: 'backend:indexeddb' }),
          'BACKEND_FAILURE',
          /\[backend:indexeddb\].*another tab or worker keeps an older version open/,
        );
      } finally {
        old.close();
      }
    });

    it('without IndexedDB in the runtime, creating a keyed backend is refused with BACKEND_FAILURE naming the fix', async () => {
      const g = globalThis as { indexedDB?: IDBFactory };
      const saved = g.indexedDB;
      try {
        Object.defineProperty(globalThis, 'indexedDB', { value: undefined, configurable: true, writable: true });
        await expectError(async () => subtask(), 'BACKEND_FAILURE', /IndexedDB is not available.*fake-indexeddb/);
      } finally {
        Object.defineProperty(globalThis, 'indexedDB', { value: saved, configurable: true, writable: true });
      }
    });
  });
}
