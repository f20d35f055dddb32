/**
 * List elements and map entries expire one by one; namespaces expire on their own.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/api/clock.ts';
import { ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor } from '../../../src/api/descriptors.ts';
import { StateVisibility } from '../../../src/api/ttl.ts';
import type { InternalKvState } from '../../../src/state/keyed-states.ts';
import { collect } from '../harness.ts';
import { builder, bare, type TtlSuite } from './kinds.ts';

/** Declares the cases of this behaviour; see `runTtlSuite`. */
export function perElementCases({ open }: TtlSuite): void {
  describe('list and map state expire per element', () => {
    for (const visibility of Object.values(StateVisibility)) {
      const returnExpired = visibility === StateVisibility.ReturnExpiredIfNotCleanedUp;
      it(`list elements expire one by one (${visibility})`, async () => {
        const clock = new ManualClock(0);
        const t = await open(clock);
        const l = t.store.getListState(new ListStateDescriptor<string>('l').enableTimeToLive(bare(builder().setStateVisibility(visibility))));
        t.key('k');
        await l.add('a');
        clock.set(50);
        await l.addAll(['b', 'c']);
        clock.set(100);
        expect(await l.get()).toEqual(returnExpired ? ['a', 'b', 'c'] : ['b', 'c']);
        clock.set(150);
        expect(await l.get()).toEqual(returnExpired ? ['a', 'b', 'c'] : []);
        await l.update(['x']);
        clock.set(249);
        expect(await l.get()).toEqual(['x']);
      });

      it(`map entries expire one by one, and contains/isEmpty/entries/keys/values agree with get (${visibility})`, async () => {
        const clock = new ManualClock(0);
        const t = await open(clock);
        const m = t.store.getMapState(new MapStateDescriptor<string, number>('m').enableTimeToLive(bare(builder().setStateVisibility(visibility))));
        t.key('k');
        await m.put('a', 1);
        clock.set(50);
        await m.putAll([['b', 2]]);
        clock.set(100);
        expect(await m.get('a')).toBe(returnExpired ? 1 : undefined);
        expect(await m.contains('a')).toBe(returnExpired);
        expect(await m.contains('b')).toBe(true);
        const visible = returnExpired
          ? [
              ['a', 1],
              ['b', 2],
            ]
          : [['b', 2]];
        expect((await collect(m.entries())).sort()).toEqual(visible);
        expect((await collect(m.keys())).sort()).toEqual(visible.map(([k]) => k));
        expect((await collect(m.values())).sort()).toEqual(visible.map(([, v]) => v));
        expect(await m.isEmpty()).toBe(false);
        clock.set(150);
        expect(await m.isEmpty()).toBe(!returnExpired);
        expect(await collect(m.entries())).toHaveLength(returnExpired ? 2 : 0);
      });
    }

    it('OnReadAndWrite renews only the map entries that were read, and entries() renews every entry it yields', async () => {
      const clock = new ManualClock(0);
      const t = await open(clock);
      const m = t.store.getMapState(new MapStateDescriptor<string, number>('m').enableTimeToLive(bare(builder().updateTtlOnReadAndWrite())));
      t.key('k');
      await m.putAll([
        ['a', 1],
        ['b', 2],
      ]);
      clock.set(90);
      expect(await m.get('a')).toBe(1);
      clock.set(160);
      expect(await m.get('a')).toBe(1);
      expect(await m.get('b')).toBeUndefined();
      await m.put('c', 3);
      clock.set(250);
      expect(await collect(m.entries())).toEqual([
        ['a', 1],
        ['c', 3],
      ]);
      clock.set(340);
      expect((await collect(m.entries())).sort()).toEqual([
        ['a', 1],
        ['c', 3],
      ]);
    });

    it('OnReadAndWrite renews every unexpired list element on get()', async () => {
      const clock = new ManualClock(0);
      const t = await open(clock);
      const l = t.store.getListState(new ListStateDescriptor<number>('l').enableTimeToLive(bare(builder().updateTtlOnReadAndWrite())));
      t.key('k');
      await l.add(1);
      clock.set(50);
      await l.add(2);
      clock.set(99);
      expect(await l.get()).toEqual([1, 2]);
      clock.set(198);
      expect(await l.get()).toEqual([1, 2]);
      clock.set(298);
      expect(await l.get()).toEqual([]);
    });

    it('each namespace of a key expires on its own', async () => {
      const clock = new ManualClock(0);
      const t = await open(clock);
      const v = t.store.getState(new ValueStateDescriptor<string>('v').enableTimeToLive(bare()));
      const ns = (n: string) => (v as unknown as InternalKvState).setCurrentNamespace(n);
      t.key('k');
      ns('w1');
      await v.update('one');
      clock.set(50);
      ns('w2');
      await v.update('two');
      clock.set(100);
      expect(await v.value()).toBe('two');
      ns('w1');
      expect(await v.value()).toBeUndefined();
    });
  });
}
