/**
 * keys(), the raw tables and the optional hooks (prefetch, flush).
 */
import { describe, expect, it } from 'vitest';
import { ValueStateDescriptor } from '../../../src/api/descriptors.ts';
import { keyGroupForKey } from '../../../src/format/key-groups.ts';
import type { Key } from '../../../src/format/key-bytes.ts';
import { MAX_P, collect, sortKeys } from '../harness.ts';
import { fixtureCells, FX, fixtureStates, writeFixture, verifyFixture, contentsOf } from './fixture.ts';
import type { StateSuite } from './context.ts';

/** Declares the cases of this behaviour; see `runStateBackendSuite`. */
export function enumerationCases({ open }: StateSuite): void {
  describe('keys()', () => {
    it('keys(state, namespace) yields each key with state exactly once, and no key whose state was removed', async () => {
      const t = await open();
      const s = fixtureStates(t.store);
      const keys = Array.from({ length: 40 }, (_, i): Key => (i % 2 === 0 ? `k${i}` : [i, 'x']));
      for (const k of keys) {
        t.key(k);
        await s.value.update(1);
        await s.value.update(2);
        await s.list.add(1);
        await s.list.add(2);
        await s.map.putAll([
          ['a', 1],
          ['b', 2],
        ]);
        await s.sum.add(1);
        await s.avg.add(1);
      }
      const removed = keys.filter((_, i) => i % 5 === 0);
      for (const k of removed) {
        t.key(k);
        await s.value.update(undefined);
        await s.list.update([]);
        await s.map.remove('a');
        await s.map.remove('b');
        await s.sum.clear();
        await s.avg.clear();
      }
      const kept = sortKeys(keys.filter((k) => !removed.includes(k)));
      for (const n of Object.values(FX)) {
        const got = await collect(t.kb.keys(n, ''));
        expect(got.length, n).toBe(kept.length);
        expect(sortKeys(got), n).toEqual(kept);
      }
    });

    it('keys() of an unknown state or of a namespace without state yields nothing', async () => {
      const t = await open();
      t.key('k');
      await t.store.getState(new ValueStateDescriptor<number>('v')).update(1);
      expect(await collect(t.kb.keys('no such state', ''))).toEqual([]);
      expect(await collect(t.kb.keys('v', 'no such namespace'))).toEqual([]);
    });
  });

  describe('raw tables and optional hooks', () => {
    it('ListTable.get() returns undefined for an empty list and a fresh array otherwise', async () => {
      const t = await open();
      const table = t.kb.listTable<number>('raw');
      t.key('k');
      expect(await table.get('')).toBeUndefined();
      await table.addAll('', [1, 2]);
      const a = await table.get('');
      const b = await table.get('');
      expect(a).toEqual([1, 2]);
      expect(a).not.toBe(b);
      await table.update('', []);
      expect(await table.get('')).toBeUndefined();
    });

    it('a table requested twice under one name reads and writes the same state', async () => {
      const t = await open();
      t.key('k');
      await t.kb.valueTable<number>('same', 'value').put('ns', 5);
      expect(await t.kb.valueTable<number>('same', 'value').get('ns')).toBe(5);
      await t.kb.mapTable<number>('same-map').put('ns', ['u', 1], 6);
      expect(await t.kb.mapTable<number>('same-map').get('ns', ['u', 1])).toBe(6);
    });

    it('prefetch(), where implemented, is only a hint: reads after it see the same state', async () => {
      const t = await open();
      const v = t.store.getState(new ValueStateDescriptor<number>('v'));
      const keys: Key[] = Array.from({ length: 20 }, (_, i) => `k${i}`);
      for (const [i, k] of keys.entries()) {
        if (i % 2 === 1) continue;
        t.key(k);
        await v.update(i);
      }
      await t.kb.prefetch?.(
        keys,
        keys.map((k) => keyGroupForKey(k, MAX_P)),
      );
      for (const [i, k] of keys.entries()) {
        t.key(k);
        expect(await v.value()).toBe(i % 2 === 1 ? undefined : i);
      }
    });

    it('flush(), where implemented, changes nothing that reads or snapshots see', async () => {
      const cells = fixtureCells(20);
      const t = await open();
      await writeFixture(t, cells);
      const before = contentsOf(await t.kb.snapshot());
      await t.kb.flush?.();
      expect(contentsOf(await t.kb.snapshot())).toEqual(before);
      await verifyFixture(t, cells);
    });
  });
}
