/**
 * Bad input: kind mismatches, unserialisable values and undefined are refused with typed errors, writing nothing.
 */
import { describe, expect, it } from 'vitest';
import {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  ValueStateDescriptor,
} from '../../../src/api/descriptors.ts';
import type { AggregateFunction } from '../../../src/api/state.ts';
import type { Key } from '../../../src/format/key-bytes.ts';
import { KeyedStateStore } from '../../../src/state/keyed-state-store.ts';
import { average, sumOf, collect, sortEntries, expectEddyError, type Avg } from '../harness.ts';
import type { StateSuite } from './context.ts';

/** Declares the cases of this behaviour; see `runStateBackendSuite`. */
export function errorCases({ open }: StateSuite): void {
  describe('errors', () => {
    it('reusing a state name with another kind through KeyedStateStore throws STATE_KIND_MISMATCH and leaves the state intact', async () => {
      const t = await open();
      const v = t.store.getState(new ValueStateDescriptor<number>('dup'));
      t.key('k');
      await v.update(1);
      await expectEddyError(() => t.store.getListState(new ListStateDescriptor<number>('dup')), 'STATE_KIND_MISMATCH', 'dup');
      await expectEddyError(() => t.store.getMapState(new MapStateDescriptor<string, number>('dup')), 'STATE_KIND_MISMATCH', 'dup');
      await expectEddyError(() => t.store.getReducingState(sumOf('dup')), 'STATE_KIND_MISMATCH', 'dup');
      await expectEddyError(() => t.store.getAggregatingState(new AggregatingStateDescriptor('dup', average)), 'STATE_KIND_MISMATCH', 'dup');
      // A second store over the same backend has no memory of its own: the backend refuses.
      const other = new KeyedStateStore(t.kb, 'another store');
      await expectEddyError(() => other.getReducingState(sumOf('dup')), 'STATE_KIND_MISMATCH', 'dup');
      await expectEddyError(() => other.getListState(new ListStateDescriptor<number>('dup')), 'STATE_KIND_MISMATCH', 'dup');
      expect(await v.value()).toBe(1);
      expect(t.kb.states()).toEqual([{ name: 'dup', kind: 'value' }]);
    });

    it('the raw tables refuse a name registered with another kind with STATE_KIND_MISMATCH', async () => {
      const t = await open();
      t.kb.valueTable('raw-value', 'value');
      t.kb.listTable('raw-list');
      t.kb.mapTable('raw-map');
      t.kb.valueTable('raw-reducing', 'reducing');
      await expectEddyError(() => t.kb.listTable('raw-value'), 'STATE_KIND_MISMATCH', 'raw-value');
      await expectEddyError(() => t.kb.mapTable('raw-value'), 'STATE_KIND_MISMATCH', 'raw-value');
      await expectEddyError(() => t.kb.valueTable('raw-value', 'reducing'), 'STATE_KIND_MISMATCH', 'raw-value');
      await expectEddyError(() => t.kb.valueTable('raw-value', 'aggregating'), 'STATE_KIND_MISMATCH', 'raw-value');
      await expectEddyError(() => t.kb.valueTable('raw-list', 'value'), 'STATE_KIND_MISMATCH', 'raw-list');
      await expectEddyError(() => t.kb.mapTable('raw-list'), 'STATE_KIND_MISMATCH', 'raw-list');
      await expectEddyError(() => t.kb.listTable('raw-map'), 'STATE_KIND_MISMATCH', 'raw-map');
      await expectEddyError(() => t.kb.valueTable('raw-reducing', 'value'), 'STATE_KIND_MISMATCH', 'raw-reducing');
      t.kb.valueTable('raw-value', 'value');
      t.kb.listTable('raw-list');
    });

    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const unserialisable: Array<[string, unknown]> = [
      ['a function', () => 1],
      ['a symbol', Symbol('s')],
      ['an object containing a function', { nested: { ok: 1, f() {} } }],
      [
        'a class instance',
        new (class Point {
          x = 1;
        })(),
      ],
      ['a cyclic object', cyclic],
    ];

    it('ValueState.update() of an unserialisable value (function, symbol, object with a function, class instance, cycle) rejects with UNSERIALIZABLE_VALUE naming the state; the old value stays', async () => {
      const t = await open();
      const s = t.store.getState(new ValueStateDescriptor<unknown>('bad-value'));
      t.key('k');
      await s.update({ good: true });
      for (const [what, bad] of unserialisable) {
        await expectEddyError(() => s.update(bad), 'UNSERIALIZABLE_VALUE', 'bad-value');
        expect(await s.value(), what).toEqual({ good: true });
      }
    });

    it('ListState add(), addAll() and update() with an unserialisable element reject with UNSERIALIZABLE_VALUE and write nothing', async () => {
      const t = await open();
      const s = t.store.getListState(new ListStateDescriptor<unknown>('bad-list'));
      t.key('k');
      await s.addAll([1, 2]);
      for (const [what, bad] of unserialisable) {
        await expectEddyError(() => s.add(bad), 'UNSERIALIZABLE_VALUE', 'bad-list');
        await expectEddyError(() => s.addAll([3, bad]), 'UNSERIALIZABLE_VALUE', 'bad-list');
        await expectEddyError(() => s.update([3, bad]), 'UNSERIALIZABLE_VALUE', 'bad-list');
        expect(await s.get(), what).toEqual([1, 2]);
      }
    });

    it('MapState put() and putAll() with an unserialisable value reject with UNSERIALIZABLE_VALUE and write nothing', async () => {
      const t = await open();
      const s = t.store.getMapState(new MapStateDescriptor<string, unknown>('bad-map'));
      t.key('k');
      await s.put('x', 1);
      for (const [what, bad] of unserialisable) {
        await expectEddyError(() => s.put('x', bad), 'UNSERIALIZABLE_VALUE', 'bad-map');
        await expectEddyError(
          () =>
            s.putAll([
              ['y', 2],
              ['z', bad],
            ]),
          'UNSERIALIZABLE_VALUE',
          'bad-map',
        );
        expect(sortEntries(await collect(s.entries())), what).toEqual([['x', 1]]);
      }
    });

    it('ReducingState rejects an unserialisable added value or reduce result with UNSERIALIZABLE_VALUE; the folded value stays', async () => {
      const t = await open();
      const s = t.store.getReducingState(new ReducingStateDescriptor<unknown>('bad-reducing', (a, b) => (b === 'poison' ? () => a : b)));
      t.key('k');
      await s.add(1);
      for (const [what, bad] of unserialisable) {
        await expectEddyError(() => s.add(bad), 'UNSERIALIZABLE_VALUE', 'bad-reducing');
        expect(await s.get(), what).toBe(1);
      }
      await expectEddyError(() => s.add('poison'), 'UNSERIALIZABLE_VALUE', 'bad-reducing');
      expect(await s.get()).toBe(1);
    });

    it('AggregatingState rejects an unserialisable accumulator with UNSERIALIZABLE_VALUE; the accumulator stays', async () => {
      const t = await open();
      const fn: AggregateFunction<number, Avg, number> = { ...average, add: (v, acc) => (v === 99 ? { ...acc, f: () => v } : average.add(v, acc)) };
      const s = t.store.getAggregatingState(new AggregatingStateDescriptor('bad-aggregating', fn));
      t.key('k');
      await s.add(4);
      await expectEddyError(() => s.add(99), 'UNSERIALIZABLE_VALUE', 'bad-aggregating');
      expect(await s.get()).toBe(4);
    });

    it('ReducingState and AggregatingState refuse undefined (an added value, a reduce result, an accumulator) with INVALID_ARGUMENT, leaving no phantom key', async () => {
      const t = await open();
      const r = t.store.getReducingState(
        new ReducingStateDescriptor<number | undefined>('undef-reducing', (a, b) => (b === 0 ? undefined : (a ?? 0) + (b ?? 0))),
      );
      const forgetful: AggregateFunction<number, Avg | undefined, number> = {
        createAccumulator: () => ({ sum: 0, count: 0 }),
        add: (v, acc) => (v === 0 ? undefined : average.add(v, acc!)),
        getResult: (acc) => average.getResult(acc!),
      };
      const g = t.store.getAggregatingState(new AggregatingStateDescriptor('undef-aggregating', forgetful));
      t.key('empty');
      await expectEddyError(() => r.add(undefined), 'INVALID_ARGUMENT', 'undef-reducing');
      await expectEddyError(() => g.add(0), 'INVALID_ARGUMENT', 'undef-aggregating');
      expect(await collect(t.kb.keys('undef-reducing', ''))).toEqual([]);
      expect(await collect(t.kb.keys('undef-aggregating', ''))).toEqual([]);
      t.key('full');
      await r.add(5);
      await g.add(5);
      await expectEddyError(() => r.add(0), 'INVALID_ARGUMENT', 'undef-reducing');
      await expectEddyError(() => g.add(0), 'INVALID_ARGUMENT', 'undef-aggregating');
      expect(await r.get()).toBe(5);
      expect(await g.get()).toBe(5);
    });

    it('undefined list elements and map values, and invalid map keys, are refused without writing', async () => {
      const t = await open();
      const l = t.store.getListState(new ListStateDescriptor<unknown>('list'));
      const m = t.store.getMapState(new MapStateDescriptor<Key, unknown>('map'));
      t.key('k');
      await expectEddyError(() => l.add(undefined), 'INVALID_ARGUMENT', 'list');
      await expectEddyError(() => l.addAll([1, undefined]), 'INVALID_ARGUMENT', 'list');
      await expectEddyError(() => m.put('x', undefined), 'INVALID_ARGUMENT', 'map');
      for (const badKey of [NaN, null, undefined, {}, [1, {}], () => 1]) {
        await expectEddyError(() => m.put(badKey as unknown as Key, 1), 'INVALID_KEY', 'map');
      }
      expect(await l.get()).toEqual([]);
      expect(await m.isEmpty()).toBe(true);
      expect(await collect(t.kb.keys('list', ''))).toEqual([]);
      expect(await collect(t.kb.keys('map', ''))).toEqual([]);
    });
  });
}
