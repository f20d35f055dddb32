/**
 * ListState: appending, replacing, clearing, and copies in and out.
 */
import { describe, expect, it } from 'vitest';
import { ListStateDescriptor } from '../../../src/api/descriptors.ts';
import { collect } from '../harness.ts';
import type { StateSuite } from './context.ts';

/** Declares the cases of this behaviour; see `runStateBackendSuite`. */
export function listStateCases({ open }: StateSuite): void {
  describe('ListState', () => {
    it('get() is [] when nothing was stored', async () => {
      const t = await open();
      const s = t.store.getListState(new ListStateDescriptor<number>('l'));
      t.key('a');
      expect(await s.get()).toEqual([]);
    });

    it('add() and addAll() append in order, keeping duplicates, nulls and structured elements', async () => {
      const t = await open();
      const s = t.store.getListState(new ListStateDescriptor<unknown>('l'));
      t.key('a');
      await s.add(1);
      await s.addAll([2, 3]);
      await s.add(1);
      await s.addAll([]);
      await s.addAll(new Set([null, { x: [4] }]));
      await s.add('five');
      expect(await s.get()).toEqual([1, 2, 3, 1, null, { x: [4] }, 'five']);
    });

    it('update() replaces the list (from any iterable); update([]) clears it', async () => {
      const t = await open();
      const s = t.store.getListState(new ListStateDescriptor<number>('l'));
      t.key('a');
      await s.addAll([1, 2, 3]);
      await s.update([9, 8]);
      expect(await s.get()).toEqual([9, 8]);
      await s.update(
        (function* () {
          yield 7;
          yield 6;
        })(),
      );
      expect(await s.get()).toEqual([7, 6]);
      await s.update([]);
      expect(await s.get()).toEqual([]);
      expect(await collect(t.kb.keys('l', ''))).toEqual([]);
      await s.add(5);
      expect(await s.get()).toEqual([5]);
    });

    it('clear() removes the list of the current key only', async () => {
      const t = await open();
      const s = t.store.getListState(new ListStateDescriptor<number>('l'));
      t.key('a');
      await s.addAll([1, 2]);
      t.key('b');
      await s.addAll([3]);
      await s.clear();
      expect(await s.get()).toEqual([]);
      t.key('a');
      expect(await s.get()).toEqual([1, 2]);
    });

    it('the array get() returns is a copy: later adds do not change it, and changing it does not change the state', async () => {
      const t = await open();
      const s = t.store.getListState(new ListStateDescriptor<number>('l'));
      t.key('a');
      await s.addAll([1, 2]);
      const first = await s.get();
      await s.add(3);
      await s.addAll([4]);
      expect(await s.get()).toEqual([1, 2, 3, 4]);
      expect(first).toEqual([1, 2]);
      first.push(99);
      first[0] = -1;
      expect(await s.get()).toEqual([1, 2, 3, 4]);
    });

    it('changing the array passed to addAll() or update() afterwards does not change the state', async () => {
      const t = await open();
      const s = t.store.getListState(new ListStateDescriptor<number>('l'));
      t.key('a');
      const input = [1, 2];
      await s.update(input);
      input.push(3);
      const more = [4];
      await s.addAll(more);
      more.push(5);
      expect(await s.get()).toEqual([1, 2, 4]);
    });
  });
}
