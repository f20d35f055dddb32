/**
 * The SQLite snapshot captures a frozen copy inside `snapshot()` and encodes it
 * afterwards, in slices: what was written after the call returned its Promise belongs to
 * the next snapshot, full or delta, and records get turns while a large one encodes.
 */
import { describe, expect, it } from 'vitest';
import { ValueStateDescriptor } from '../../src/api/descriptors.ts';
import { mergeKeyedChain } from '../../src/format/checkpoint-chain.ts';
import { keyGroupForKey } from '../../src/format/key-groups.ts';
import type { Key } from '../../src/format/key-bytes.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import { readKeyGroup, type KeyedStateSnapshot } from '../../src/format/snapshot-format.ts';
import { openSqliteKeyed } from '../helpers/sqlite.ts';

async function open() {
  const { kb } = await openSqliteKeyed('sqlite-capture');
  const store = new KeyedStateStore(kb, 'Op (1/1)');
  const v = store.getState(new ValueStateDescriptor<number>('v'));
  const set = async (k: Key, value: number | undefined) => {
    kb.setCurrentKey(k, keyGroupForKey(k, 128));
    if (value === undefined) await v.clear();
    else await v.update(value);
  };
  return { kb, set };
}

/** The values of state `v` in a (full or merged) snapshot, by key. */
function values(s: KeyedStateSnapshot): Map<Key, unknown> {
  const out = new Map<Key, unknown>();
  for (const [, bytes] of s.keyGroups) for (const e of readKeyGroup(bytes, s.states)) if (e.shape === 'value') out.set(e.key, e.value);
  return out;
}

describe('SqliteStateBackend snapshot capture', () => {
  it('a full snapshot holds the state as of the call: writes after it returned its Promise (also those run while it encodes) are left out, and the next snapshot has them', async () => {
    const { kb, set } = await open();
    for (let i = 0; i < 30_000; i++) await set(`k${i}`, i);
    const pending = kb.snapshot({ checkpointId: 1 });
    await set('k1', -1);
    await set('k2', undefined);
    await set('new', 7);
    // Write the cache back, so that the live database holds these writes while the snapshot encodes.
    await kb.flush();
    // Runs only if the encoding gives other work a turn before it finishes.
    let duringEncoding = false;
    setTimeout(
      () =>
        void set('k3', -3)
          .then(() => kb.flush())
          .then(() => (duringEncoding = true)),
      0,
    );
    const first = values(await pending);
    expect(duringEncoding).toBe(true);
    expect(first.size).toBe(30_000);
    expect([first.get('k1'), first.get('k2'), first.get('k3'), first.has('new')]).toEqual([1, 2, 3, false]);
    const second = values(await kb.snapshot({ checkpointId: 2 }));
    expect([second.get('k1'), second.has('k2'), second.get('k3'), second.get('new')]).toEqual([-1, false, -3, 7]);
    await kb.dispose();
  });

  it('a delta holds the changes up to the call; changes after it are marked for the next delta', async () => {
    const { kb, set } = await open();
    for (let i = 0; i < 1_000; i++) await set(`k${i}`, i);
    const base = await kb.snapshot({ checkpointId: 1, incremental: true });
    kb.notifyCheckpointComplete(1);
    await set('k1', 100);
    await set('k2', undefined);
    const pending = kb.snapshot({ checkpointId: 2, incremental: true });
    await set('k1', 200);
    await set('k3', undefined);
    await set('after', 1);
    await kb.flush();
    const delta = await pending;
    expect(delta.incremental?.baseCheckpointId).toBe(1);
    const atTwo = values(mergeKeyedChain([base, delta]));
    expect([atTwo.get('k1'), atTwo.has('k2'), atTwo.get('k3'), atTwo.has('after'), atTwo.size]).toEqual([100, false, 3, false, 999]);
    kb.notifyCheckpointComplete(2);
    const next = await kb.snapshot({ checkpointId: 3, incremental: true });
    expect(next.incremental?.baseCheckpointId).toBe(2);
    const atThree = values(mergeKeyedChain([base, delta, next]));
    expect([atThree.get('k1'), atThree.has('k2'), atThree.has('k3'), atThree.get('after'), atThree.size]).toEqual([200, false, false, 1, 999]);
    await kb.dispose();
  });
});
