/**
 * The IndexedDB backend and the OPFS storage in a dedicated worker of real Chromium (the
 * globals they touch lazily — `indexedDB`, `IDBKeyRange`, `navigator.storage`,
 * `navigator.locks` — exist there too). A smoke test: the full suites run on the main
 * thread (indexeddb.test.ts, opfs.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { ValueStateDescriptor, MapStateDescriptor } from '../../src/api/descriptors.ts';
import { HashMapStateBackend } from '../../src/backends/memory.ts';
import { keyGroupForKey } from '../../src/format/key-groups.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import type { KeyedStateSnapshot } from '../../src/format/snapshot-format.ts';
import { keyedOptions } from '../helpers/keyed-options.ts';

interface Reply {
  snapshot?: KeyedStateSnapshot;
  listed?: string[];
  part?: Uint8Array;
  error?: string;
}

describe('in a dedicated worker (Chromium)', () => {
  it('IndexedDbStateBackend keeps state and snapshots it; OpfsCheckpointStorage locks, writes, lists and reads', async () => {
    const run = `w-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
    const worker = new Worker(new URL('./worker-smoke.worker.ts', import.meta.url), { type: 'module' });
    const reply = await new Promise<Reply>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<Reply>) => resolve(e.data);
      worker.onerror = (e) => reject(new Error(e.message));
      worker.postMessage({ run });
    }).finally(() => worker.terminate());
    expect(reply.error).toBeUndefined();
    expect(reply.listed).toEqual([`${run}/chk-1/_metadata`, `${run}/chk-1/part`]);
    expect(Array.from(reply.part!)).toEqual([1, 2, 3]);

    // The worker's snapshot restores into the heap backend with every value.
    const kb = new HashMapStateBackend().createKeyedStateBackend(keyedOptions('j', { operatorName: 'Op' }));
    await kb.restore([reply.snapshot!]);
    const store = new KeyedStateStore(kb, 'Op');
    const v = store.getState(new ValueStateDescriptor<number>('v'));
    const m = store.getMapState(new MapStateDescriptor<string, number>('m'));
    for (let i = 0; i < 100; i++) {
      kb.setCurrentKey(`k${i}`, keyGroupForKey(`k${i}`, 128));
      expect(await v.value()).toBe(i);
      expect(await m.get('x')).toBe(i * 2);
    }
  });
});
