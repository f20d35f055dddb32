/**
 * The current key: what it is, state access without one, and key groups outside the backend's range.
 */
import { describe, expect, it } from 'vitest';
import { AggregatingStateDescriptor, ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor } from '../../../src/api/descriptors.ts';
import { EddyError } from '../../../src/api/errors.ts';
import { keyGroupForKey, keyGroupRangeForSubtask } from '../../../src/format/key-groups.ts';
import { MAX_P, average, sumOf, collect, expectEddyError } from '../harness.ts';
import { inRangeKey } from './fixture.ts';
import type { StateSuite } from './context.ts';

/** Declares the cases of this behaviour; see `runStateBackendSuite`. */
export function keyContextCases({ open }: StateSuite): void {
  describe('current key', () => {
    it('getCurrentKey() returns the key set last, and undefined after clearCurrentKey()', async () => {
      const t = await open();
      expect(t.kb.getCurrentKey()).toBeUndefined();
      t.key('a');
      t.key(['x', 1n]);
      expect(t.kb.getCurrentKey()).toEqual(['x', 1n]);
      t.kb.clearCurrentKey();
      expect(t.kb.getCurrentKey()).toBeUndefined();
    });

    it('after clearCurrentKey(), every method of every state fails with NO_KEY_CONTEXT naming the state (Promises reject, iterables throw), and nothing changes', async () => {
      const t = await open();
      const v = t.store.getState(new ValueStateDescriptor<number>('nokey-value'));
      const l = t.store.getListState(new ListStateDescriptor<number>('nokey-list'));
      const m = t.store.getMapState(new MapStateDescriptor<string, number>('nokey-map'));
      const r = t.store.getReducingState(sumOf('nokey-reducing'));
      const g = t.store.getAggregatingState(new AggregatingStateDescriptor('nokey-aggregating', average));
      t.key('k');
      await v.update(1);
      await l.add(1);
      await m.put('x', 1);
      await r.add(1);
      await g.add(1);
      t.kb.clearCurrentKey();
      const calls: Array<[string, () => unknown]> = [
        ['nokey-value', () => v.value()],
        ['nokey-value', () => v.update(2)],
        ['nokey-value', () => v.update(undefined)],
        ['nokey-value', () => v.clear()],
        ['nokey-list', () => l.get()],
        ['nokey-list', () => l.add(2)],
        ['nokey-list', () => l.addAll([2])],
        ['nokey-list', () => l.update([2])],
        ['nokey-list', () => l.clear()],
        ['nokey-map', () => m.get('x')],
        ['nokey-map', () => m.put('x', 2)],
        ['nokey-map', () => m.putAll([['y', 2]])],
        ['nokey-map', () => m.remove('x')],
        ['nokey-map', () => m.contains('x')],
        ['nokey-map', () => m.isEmpty()],
        ['nokey-map', () => m.entries()],
        ['nokey-map', () => m.keys()],
        ['nokey-map', () => m.values()],
        ['nokey-map', () => m.clear()],
        ['nokey-reducing', () => r.get()],
        ['nokey-reducing', () => r.add(2)],
        ['nokey-reducing', () => r.clear()],
        ['nokey-aggregating', () => g.get()],
        ['nokey-aggregating', () => g.add(2)],
        ['nokey-aggregating', () => g.clear()],
      ];
      for (const [stateName, call] of calls) await expectEddyError(call, 'NO_KEY_CONTEXT', stateName);
      t.key('k');
      expect(await v.value()).toBe(1);
      expect(await l.get()).toEqual([1]);
      expect(await collect(m.entries())).toEqual([['x', 1]]);
      expect(await r.get()).toBe(1);
      expect(await g.get()).toBe(1);
    });

    it('a backend on which no key was ever set refuses state access with NO_KEY_CONTEXT', async () => {
      const t = await open();
      const v = t.store.getState(new ValueStateDescriptor<number>('never-keyed'));
      await expectEddyError(() => v.value(), 'NO_KEY_CONTEXT', 'never-keyed');
      await expectEddyError(() => v.update(1), 'NO_KEY_CONTEXT', 'never-keyed');
    });

    it("setCurrentKey() with a key group outside the backend's range throws an EddyError", async () => {
      const t = await open({ parallelism: 3, subtaskIndex: 0 });
      const range = t.kb.keyGroupRange;
      expect(range.equals(keyGroupRangeForSubtask(MAX_P, 3, 0))).toBe(true);
      for (const kg of [range.end + 1, MAX_P - 1, MAX_P, -1]) {
        expect(() => t.kb.setCurrentKey('x', kg), `key group ${kg}`).toThrow(EddyError);
        expect(t.kb.getCurrentKey()).not.toBe('x');
      }
      let foreign = 0;
      while (range.contains(keyGroupForKey(`k${foreign}`, MAX_P))) foreign++;
      expect(() => t.key(`k${foreign}`)).toThrow(EddyError);
      const v = t.store.getState(new ValueStateDescriptor<number>('v'));
      t.key(inRangeKey(range));
      await v.update(1);
      expect(await v.value()).toBe(1);
    });
  });
}
