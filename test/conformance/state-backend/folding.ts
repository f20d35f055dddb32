/**
 * ReducingState and AggregatingState: folds in order, and clear() starting a new fold.
 */
import { describe, expect, it } from 'vitest';
import { AggregatingStateDescriptor, ReducingStateDescriptor } from '../../../src/api/descriptors.ts';
import { average, sumOf } from '../harness.ts';
import type { StateSuite } from './context.ts';

/** Declares the cases of this behaviour; see `runStateBackendSuite`. */
export function foldingStateCases({ open }: StateSuite): void {
  describe('ReducingState', () => {
    it('get() is undefined before the first add()', async () => {
      const t = await open();
      const s = t.store.getReducingState(sumOf('r'));
      t.key('a');
      expect(await s.get()).toBeUndefined();
    });

    it('add() folds with reduce(accumulated, added), in order', async () => {
      const t = await open();
      const s = t.store.getReducingState(new ReducingStateDescriptor<string>('r', (acc, v) => `${acc}${v}`));
      t.key('a');
      await s.add('a');
      expect(await s.get()).toBe('a');
      await s.add('b');
      await s.add('c');
      expect(await s.get()).toBe('abc');
    });

    it('clear() resets it; the next add() starts a new fold', async () => {
      const t = await open();
      const s = t.store.getReducingState(sumOf('r'));
      t.key('a');
      await s.add(5);
      await s.add(6);
      expect(await s.get()).toBe(11);
      await s.clear();
      expect(await s.get()).toBeUndefined();
      await s.add(2);
      expect(await s.get()).toBe(2);
    });
  });

  describe('AggregatingState', () => {
    it('get() is undefined before the first add()', async () => {
      const t = await open();
      const s = t.store.getAggregatingState(new AggregatingStateDescriptor('avg', average));
      t.key('a');
      expect(await s.get()).toBeUndefined();
    });

    it('add() goes through createAccumulator() and add(); get() returns getResult() (an average)', async () => {
      const t = await open();
      const s = t.store.getAggregatingState(new AggregatingStateDescriptor('avg', average));
      t.key('a');
      await s.add(1);
      expect(await s.get()).toBe(1);
      await s.add(2);
      await s.add(6);
      expect(await s.get()).toBe(3);
    });

    it('clear() resets it; the next add() starts from createAccumulator()', async () => {
      const t = await open();
      const s = t.store.getAggregatingState(new AggregatingStateDescriptor('avg', average));
      t.key('a');
      await s.add(10);
      await s.clear();
      expect(await s.get()).toBeUndefined();
      await s.add(4);
      expect(await s.get()).toBe(4);
    });
  });
}
