/**
 * MapState: put, remove, iteration, null values, and user keys of every type.
 */
import { describe, expect, it } from 'vitest';
import { MapStateDescriptor } from '../../../src/api/descriptors.ts';
import type { Key } from '../../../src/format/key-bytes.ts';
import { collect, keyOrder, copyKey, sortKeys, sortEntries } from '../harness.ts';
import type { StateSuite } from './context.ts';

/** Declares the cases of this behaviour; see `runStateBackendSuite`. */
export function mapStateCases({ open }: StateSuite): void {
  describe('MapState', () => {
    it('get() is undefined, contains() false and isEmpty() true when nothing was stored', async () => {
      const t = await open();
      const s = t.store.getMapState(new MapStateDescriptor<string, number>('m'));
      t.key('a');
      expect(await s.get('x')).toBeUndefined();
      expect(await s.contains('x')).toBe(false);
      expect(await s.isEmpty()).toBe(true);
      expect(await collect(s.entries())).toEqual([]);
    });

    it('put() inserts and overwrites; remove() deletes one entry; removing a missing key does nothing', async () => {
      const t = await open();
      const s = t.store.getMapState(new MapStateDescriptor<string, number>('m'));
      t.key('a');
      await s.put('x', 1);
      await s.put('y', 2);
      await s.put('x', 3);
      expect(await s.get('x')).toBe(3);
      expect(await s.contains('y')).toBe(true);
      expect(await s.isEmpty()).toBe(false);
      await s.remove('y');
      await s.remove('never there');
      expect(await s.contains('y')).toBe(false);
      expect(await s.get('y')).toBeUndefined();
      expect(sortEntries(await collect(s.entries()))).toEqual([['x', 3]]);
    });

    it('null values are values: contains() is true and get() returns null', async () => {
      const t = await open();
      const s = t.store.getMapState(new MapStateDescriptor<string, null>('m'));
      t.key('a');
      await s.put('n', null);
      expect(await s.contains('n')).toBe(true);
      expect(await s.get('n')).toBeNull();
      expect(await s.isEmpty()).toBe(false);
    });

    it('putAll() takes an array of pairs and a Map, overwriting existing entries', async () => {
      const t = await open();
      const s = t.store.getMapState(new MapStateDescriptor<string, number>('m'));
      t.key('a');
      await s.put('a', 0);
      await s.putAll([
        ['a', 1],
        ['b', 2],
      ]);
      await s.putAll(
        new Map([
          ['c', 3],
          ['b', 20],
        ]),
      );
      await s.putAll([]);
      expect(sortEntries(await collect(s.entries()))).toEqual(
        sortEntries([
          ['a', 1],
          ['b', 20],
          ['c', 3],
        ]),
      );
    });

    it('entries(), keys() and values() are async iterables over every entry, consistent with each other', async () => {
      const t = await open();
      const s = t.store.getMapState(new MapStateDescriptor<number, string>('m'));
      t.key('a');
      const expected = Array.from({ length: 20 }, (_, i): [number, string] => [i, `v${i}`]);
      await s.putAll(expected);
      const entries = await collect(s.entries());
      expect(sortEntries(entries)).toEqual(expected);
      expect(await collect(s.keys())).toEqual(entries.map(([k]) => k));
      expect(await collect(s.values())).toEqual(entries.map(([, v]) => v));
    });

    it('clear() removes every entry of the current key only', async () => {
      const t = await open();
      const s = t.store.getMapState(new MapStateDescriptor<string, number>('m'));
      t.key('a');
      await s.putAll([
        ['x', 1],
        ['y', 2],
      ]);
      t.key('b');
      await s.put('x', 3);
      await s.clear();
      expect(await s.isEmpty()).toBe(true);
      expect(await s.get('x')).toBeUndefined();
      t.key('a');
      expect(sortEntries(await collect(s.entries()))).toEqual([
        ['x', 1],
        ['y', 2],
      ]);
    });

    it('user keys of every type are distinct (1, "1", 1n, true, [1], [[1]] …) and arrays match by value', async () => {
      const t = await open();
      const s = t.store.getMapState(new MapStateDescriptor<Key, string>('m'));
      t.key('a');
      const userKeys: Key[] = [1, '1', 1n, true, 'true', [1], ['1'], [[1]], [1, [2, 'a']], [], '', 0, -1, 1.5, -(2n ** 80n), false, 'é😀', '\u0001a'];
      for (const k of userKeys) await s.put(k, `value of ${keyOrder(k)}`);
      for (const k of userKeys) {
        expect(await s.get(copyKey(k)), keyOrder(k)).toBe(`value of ${keyOrder(k)}`);
      }
      expect(await s.get([1, [2, 'a']])).toBe(`value of ${keyOrder([1, [2, 'a']])}`);
      expect(sortKeys(await collect(s.keys()))).toEqual(sortKeys(userKeys));
      await s.remove([1]);
      expect(await s.contains([1])).toBe(false);
      expect(await s.contains(1)).toBe(true);
      expect(await s.contains([[1]])).toBe(true);
    });

    it('removing the visited entry while iterating entries() still visits every entry once', async () => {
      const t = await open();
      const s = t.store.getMapState(new MapStateDescriptor<number, number>('m'));
      t.key('a');
      await s.putAll(Array.from({ length: 50 }, (_, i): [number, number] => [i, i]));
      const seen: number[] = [];
      for await (const [k] of s.entries()) {
        seen.push(k);
        if (k % 2 === 0) await s.remove(k);
      }
      expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      expect((await collect(s.keys())).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => 2 * i + 1));
    });
  });
}
