/**
 * The synchronous handles (`getSync*State`) over state with TTL: the same expiry,
 * visibility and update-type semantics as the Promise-based handles, element by element
 * for lists and maps, with expired entries removed as they are met.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/api/clock.ts';
import { ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor } from '../../../src/api/descriptors.ts';
import { StateVisibility, UpdateType } from '../../../src/api/ttl.ts';
import { collect } from '../harness.ts';
import { bare, builder, type TtlSuite } from './kinds.ts';

/** Declares the cases of this behaviour; see `runTtlSuite`. */
export function syncCases({ open }: TtlSuite): void {
  describe('synchronous handles with TTL', () => {
    for (const visibility of Object.values(StateVisibility)) {
      const returnExpired = visibility === StateVisibility.ReturnExpiredIfNotCleanedUp;
      it(`values, list elements and map entries expire as with the Promise-based handles (${visibility})`, async () => {
        const clock = new ManualClock(0);
        const t = await open(clock);
        const ttl = () => bare(builder().setStateVisibility(visibility));
        const v = t.store.getSyncState(new ValueStateDescriptor<number>('v').enableTimeToLive(ttl()));
        const l = t.store.getSyncListState(new ListStateDescriptor<string>('l').enableTimeToLive(ttl()));
        const m = t.store.getSyncMapState(new MapStateDescriptor<string, number>('m').enableTimeToLive(ttl()));
        t.key('k');
        v.update(1);
        l.add('a');
        m.put('a', 1);
        clock.set(50);
        l.add('b');
        m.put('b', 2);
        clock.set(100);
        expect(v.value()).toBe(returnExpired ? 1 : undefined);
        expect(l.get()).toEqual(returnExpired ? ['a', 'b'] : ['b']);
        expect(m.get('a')).toBe(returnExpired ? 1 : undefined);
        expect(m.contains('b')).toBe(true);
        expect([...m.keys()].sort()).toEqual(returnExpired ? ['a', 'b'] : ['b']);
        expect(m.isEmpty()).toBe(false);
        clock.set(150);
        expect([...m.entries()]).toEqual(
          returnExpired
            ? [
                ['a', 1],
                ['b', 2],
              ].sort()
            : [],
        );
        expect(m.isEmpty()).toBe(!returnExpired);
        // What the Promise-based handle sees agrees.
        expect(await collect(t.store.getMapState(new MapStateDescriptor<string, number>('m').enableTimeToLive(ttl())).keys())).toEqual(
          returnExpired ? expect.arrayContaining(['a', 'b']) : [],
        );
        if (!returnExpired) expect(await t.count('m')).toBe(0);
      });
    }

    it('OnReadAndWrite: a synchronous read renews the value and map entries it returns', async () => {
      const clock = new ManualClock(0);
      const t = await open(clock);
      const ttl = () => bare(builder().setUpdateType(UpdateType.OnReadAndWrite));
      const v = t.store.getSyncState(new ValueStateDescriptor<number>('v').enableTimeToLive(ttl()));
      const m = t.store.getSyncMapState(new MapStateDescriptor<string, number>('m').enableTimeToLive(ttl()));
      t.key('k');
      v.update(7);
      m.put('x', 1);
      clock.set(90);
      expect(v.value()).toBe(7);
      expect([...m.entries()]).toEqual([['x', 1]]);
      clock.set(180);
      expect(v.value()).toBe(7);
      expect(m.get('x')).toBe(1);
      clock.set(300);
      expect(v.value()).toBeUndefined();
      expect(m.isEmpty()).toBe(true);
    });
  });
}
