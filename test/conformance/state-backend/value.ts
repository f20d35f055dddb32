/**
 * ValueState: absence, the default value, update and clear, per key.
 */
import { describe, expect, it } from 'vitest';
import { ValueStateDescriptor } from '../../../src/api/descriptors.ts';
import { collect, sortKeys } from '../harness.ts';
import type { StateSuite } from './context.ts';

/** Declares the cases of this behaviour; see `runStateBackendSuite`. */
export function valueStateCases({ open }: StateSuite): void {
  describe('ValueState', () => {
    it('value() is undefined when nothing was stored', async () => {
      const t = await open();
      const s = t.store.getState(new ValueStateDescriptor<number>('v'));
      t.key('a');
      expect(await s.value()).toBeUndefined();
    });

    it("value() returns the descriptor's defaultValue until a value is stored, and after clear()", async () => {
      const t = await open();
      const s = t.store.getState(new ValueStateDescriptor<number>('v', { defaultValue: 42 }));
      t.key('a');
      expect(await s.value()).toBe(42);
      await s.update(7);
      expect(await s.value()).toBe(7);
      await s.clear();
      expect(await s.value()).toBe(42);
    });

    it('update() replaces the value; 0, "", false and null are values, not absence', async () => {
      const t = await open();
      const s = t.store.getState(new ValueStateDescriptor<unknown>('v', { defaultValue: 'default' }));
      t.key('a');
      for (const v of [1, 0, '', false, null, 'last']) {
        await s.update(v);
        expect(await s.value()).toBe(v);
      }
      expect(sortKeys(await collect(t.kb.keys('v', '')))).toEqual(['a']);
    });

    it('update(undefined) clears the value, like clear()', async () => {
      const t = await open();
      const s = t.store.getState(new ValueStateDescriptor<string>('v'));
      t.key('a');
      await s.update('x');
      await s.update(undefined);
      expect(await s.value()).toBeUndefined();
      expect(await collect(t.kb.keys('v', ''))).toEqual([]);
    });

    it("clear() removes only the current key's value", async () => {
      const t = await open();
      const s = t.store.getState(new ValueStateDescriptor<string>('v'));
      t.key('a');
      await s.update('A');
      t.key('b');
      await s.update('B');
      await s.clear();
      expect(await s.value()).toBeUndefined();
      t.key('a');
      expect(await s.value()).toBe('A');
    });
  });
}
