/**
 * Snapshot and restore: what a snapshot holds, when it is cut, and what restore accepts.
 */
import { describe, expect, it } from 'vitest';
import { ListStateDescriptor, ValueStateDescriptor, type StateKind } from '../../../src/api/descriptors.ts';
import { keyGroupForKey } from '../../../src/format/key-groups.ts';
import { readKeyGroup } from '../../../src/format/snapshot-format.ts';
import { MAX_P, collect, cmp, sortEntries, expectEddyError } from '../harness.ts';
import { fixtureCells, FX, fixtureStates, writeFixture, verifyFixture, inRange, contentsOf } from './fixture.ts';
import type { StateSuite } from './context.ts';

/** Declares the cases of this behaviour; see `runStateBackendSuite`. */
export function snapshotCases({ open, N_FIXTURE }: StateSuite): void {
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
}
