/**
 * Runs inside a dedicated worker for `worker.test.ts`: the IndexedDB backend and the OPFS
 * storage where eddy jobs are meant to run in a browser, off the main thread. Posts back
 * a snapshot and what OPFS returned, for the test to check.
 */
import { MapStateDescriptor, ValueStateDescriptor } from '../../src/api/descriptors.ts';
import { IndexedDbStateBackend } from '../../src/backends/indexeddb/index.ts';
import { keyGroupForKey } from '../../src/format/key-groups.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import { OpfsCheckpointStorage } from '../../src/storages/opfs.ts';
import { keyedOptions } from '../helpers/keyed-options.ts';

self.onmessage = async (e: MessageEvent<{ run: string }>) => {
  try {
    const kb = await new IndexedDbStateBackend({ writeBehind: 16 }).createKeyedStateBackend(keyedOptions(`eddy-worker-${e.data.run}`));
    const store = new KeyedStateStore(kb, 'Op (1/1)');
    const v = store.getState(new ValueStateDescriptor<number>('v'));
    const m = store.getMapState(new MapStateDescriptor<string, number>('m'));
    for (let i = 0; i < 100; i++) {
      kb.setCurrentKey(`k${i}`, keyGroupForKey(`k${i}`, 128));
      await v.update(i);
      await m.put('x', i * 2);
    }
    const snapshot = await kb.snapshot();
    await kb.dispose();

    const storage = new OpfsCheckpointStorage({ directory: 'eddy-worker' });
    const lock = await storage.lock(e.data.run);
    await storage.put(`${e.data.run}/chk-1/part`, new Uint8Array([1, 2, 3]));
    await storage.put(`${e.data.run}/chk-1/_metadata`, new Uint8Array([9]));
    const listed = await storage.list(`${e.data.run}/`);
    const part = await storage.get(`${e.data.run}/chk-1/part`);
    await lock.release();
    self.postMessage({ snapshot, listed, part });
  } catch (error) {
    self.postMessage({ error: String((error as Error)?.stack ?? error) });
  }
};
