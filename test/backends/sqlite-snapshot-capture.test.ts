/**
 * The SQLite snapshot captures a frozen copy inside `snapshot()` and encodes it
 * afterwards, in slices: what was written after the call returned its Promise belongs to
 * the next snapshot, full or delta, and records get turns while a large one encodes.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/api/clock.ts';
import { ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor } from '../../src/api/descriptors.ts';
import { StateTtlConfig } from '../../src/api/ttl.ts';
import type { KeyedStateBackend } from '../../src/state/backend.ts';
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

/** A list state, a list state with TTL (50 ms) and a map state on `kb`, read through the state API. */
function collections(kb: KeyedStateBackend, clock: ManualClock) {
  const store = new KeyedStateStore(kb, 'Op (1/1)', clock);
  const l = store.getListState(new ListStateDescriptor<number>('l'));
  const lt = store.getListState(new ListStateDescriptor<number>('lt').enableTimeToLive(StateTtlConfig.newBuilder(50).build()));
  const m = store.getMapState(new MapStateDescriptor<string, number>('m'));
  const at = (k: Key) => kb.setCurrentKey(k, keyGroupForKey(k, 128));
  /** Every key's lists and map as the API shows them (empty ones left out). */
  const view = async (keys: readonly Key[]) => {
    const out = new Map<Key, { l: number[]; lt: number[]; m: Array<[string, number]> }>();
    for (const k of keys) {
      at(k);
      const e = { l: [...(await l.get())], lt: [...(await lt.get())], m: [] as Array<[string, number]> };
      for await (const entry of m.entries()) e.m.push(entry);
      e.m.sort(([a], [b]) => (a < b ? -1 : 1));
      if (e.l.length + e.lt.length + e.m.length > 0) out.set(k, e);
    }
    kb.clearCurrentKey();
    return out;
  };
  return { l, lt, m, at, view };
}

afterEach(() => {
  vi.restoreAllMocks();
});

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

  it('a delta holds each changed list and map entry exactly as at the call: writes right after it, between its pages and TTL cleanup of list rows are kept out', async () => {
    const { kb } = await openSqliteKeyed('sqlite-capture-collections');
    const clock = new ManualClock(1_000);
    const { l, lt, m, at, view } = collections(kb, clock);
    const keys = Array.from({ length: 2_000 }, (_, i) => `k${i}`);
    for (const [i, k] of keys.entries()) {
      at(k);
      await l.add(i);
      await m.put('a', i);
    }
    const base = await kb.snapshot({ checkpointId: 1, incremental: true });
    kb.notifyCheckpointComplete(1);
    // 1,500 changed entries per state: three pages of the delta's reading each.
    const changed = keys.slice(0, 1_500);
    for (const [i, k] of changed.entries()) {
      at(k);
      await l.add(i + 10_000);
      await m.put('b', i);
      if (i < 300) await lt.add(i);
    }
    const expected = await view(keys);
    // Every slice is due at once, so the encoding gives the writer below a turn between its pages.
    let fakeNow = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => (fakeNow += 10));
    const pending = kb.snapshot({ checkpointId: 2, incremental: true });
    let done = false;
    void pending.then(() => (done = true));
    // Right after the call (even keys) and between its pages (all): rewrite, clear and remove.
    const overwrite = async (round: number) => {
      for (const [i, k] of changed.entries()) {
        if (round === 1 && i % 2 === 1) continue;
        at(k);
        if (i % 3 === 0) await l.clear();
        else await l.update([-round]);
        if (i % 5 === 0) await m.clear();
        else {
          await m.put('a', -round);
          await m.remove('b');
        }
      }
      at('k1999');
      await l.add(-round);
      kb.clearCurrentKey();
    };
    await overwrite(1);
    // TTL cleanup deletes the expired `lt` rows.
    const rowsBefore = kb.stats().rows;
    clock.set(2_000);
    await kb.flush();
    expect(kb.stats().rows).toBe(rowsBefore - 300);
    let turns = 0;
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (!done) await overwrite(2 + turns++);
    }
    expect(turns).toBeGreaterThanOrEqual(3);
    vi.restoreAllMocks();
    const delta = await pending;
    expect(delta.incremental?.baseCheckpointId).toBe(1);

    const { kb: restored } = await openSqliteKeyed('sqlite-capture-collections-restored');
    await restored.restore([mergeKeyedChain([base, delta])]);
    const got = await collections(restored, new ManualClock(1_010)).view(keys);
    expect(got.size).toBe(2_000);
    expect(got.get('k0')).toEqual({
      l: [0, 10_000],
      lt: [0],
      m: [
        ['a', 0],
        ['b', 0],
      ],
    });
    expect(got).toEqual(expected);
    // The writes after the call are the next delta's.
    kb.notifyCheckpointComplete(2);
    const next = await kb.snapshot({ checkpointId: 3, incremental: true });
    const { kb: later } = await openSqliteKeyed('sqlite-capture-collections-later');
    await later.restore([mergeKeyedChain([base, delta, next])]);
    const after = await collections(later, new ManualClock(2_000)).view(keys);
    expect(after.get('k0')).toBeUndefined();
    expect(after.get('k1')).toEqual({ l: [-(1 + turns)], lt: [], m: [['a', -(1 + turns)]] });
    expect(after.get('k1999')?.l).toEqual([1999, ...Array.from({ length: 1 + turns }, (_, i) => -(i + 1))]);
    await Promise.all([kb.dispose(), restored.dispose(), later.dispose()]);
  }, 120_000);

  it('incremental TTL cleanup (pruneEntries) right after the call removes list rows from the live state, not from the delta', async () => {
    const { kb } = await openSqliteKeyed('sqlite-capture-prune');
    const { l, at, view } = collections(kb, new ManualClock(1_000));
    const keys = Array.from({ length: 600 }, (_, i) => `k${i}`);
    for (const [i, k] of keys.entries()) {
      at(k);
      await l.add(i);
    }
    const base = await kb.snapshot({ checkpointId: 1, incremental: true });
    kb.notifyCheckpointComplete(1);
    for (const [i, k] of keys.entries()) {
      at(k);
      await l.add(i + 10_000);
    }
    kb.clearCurrentKey();
    const pending = kb.snapshot({ checkpointId: 2, incremental: true });
    // Every row counts as stale: the walk deletes every list of the state.
    expect(kb.pruneEntries('l', 10_000, () => true)).toBe(600);
    expect((await view(keys)).size).toBe(0);
    const { kb: restored } = await openSqliteKeyed('sqlite-capture-prune-restored');
    await restored.restore([mergeKeyedChain([base, await pending])]);
    const got = await collections(restored, new ManualClock(1_000)).view(keys);
    expect(got.size).toBe(600);
    for (const [i, k] of keys.entries()) expect(got.get(k)?.l, k).toEqual([i, i + 10_000]);
    await Promise.all([kb.dispose(), restored.dispose()]);
  }, 60_000);
});
