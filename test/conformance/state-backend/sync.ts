/**
 * Synchronous state access (`getSync*State`): the five kinds answer at once on the same
 * data as the Promise-based handles, including state that was flushed and restored and
 * then made resident by `prefetch()` (what the runtime does for every batch and timer).
 * A backend without synchronous access refuses every call with `STATE_NOT_RESIDENT`.
 */
import { describe, expect, it } from 'vitest';
import { AggregatingStateDescriptor, ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor } from '../../../src/api/descriptors.ts';
import { StateError } from '../../../src/api/errors.ts';
import type { Key } from '../../../src/format/key-bytes.ts';
import { keyGroupForKey } from '../../../src/format/key-groups.ts';
import { average, collect, MAX_P, sortEntries, sumOf, type Subtask } from '../harness.ts';
import type { StateSuite } from './context.ts';

/** Loads `keys` the way the runtime does before a batch, then sets the first as the current key. */
async function resident(t: Subtask, ...keys: Key[]): Promise<void> {
  await t.kb.prefetch?.(
    keys,
    keys.map((k) => keyGroupForKey(k, MAX_P)),
  );
  t.key(keys[0]);
}

/** Every synchronous handle of one subtask, obtained as a function would in open(). */
function handles(t: Subtask) {
  return {
    v: t.store.getSyncState(new ValueStateDescriptor<{ n: number }>('v', { defaultValue: { n: 0 } })),
    l: t.store.getSyncListState(new ListStateDescriptor<string>('l')),
    m: t.store.getSyncMapState(new MapStateDescriptor<string, number>('m')),
    r: t.store.getSyncReducingState(sumOf('r')),
    a: t.store.getSyncAggregatingState(new AggregatingStateDescriptor('a', average)),
  };
}

/** Declares the cases of this behaviour; see `runStateBackendSuite`. */
export function syncAccessCases({ open, syncAccess }: StateSuite): void {
  if (!syncAccess) {
    describe('synchronous access (not offered by this backend)', () => {
      it('every synchronous call throws STATE_NOT_RESIDENT naming the backend, state and key, and writes nothing', async () => {
        const t = await open();
        const h = handles(t);
        await resident(t, 'a');
        const calls: Array<() => unknown> = [
          () => h.v.value(),
          () => h.v.update({ n: 1 }),
          () => h.l.add('x'),
          () => h.m.put('k', 1),
          () => h.r.add(1),
          () => h.a.get(),
        ];
        for (const call of calls) {
          const e = (() => {
            try {
              call();
            } catch (err) {
              return err;
            }
          })();
          expect(e).toBeInstanceOf(StateError);
          expect((e as StateError).code).toBe('STATE_NOT_RESIDENT');
          expect((e as Error).message).toContain(`backend:${t.kb.name}`);
          expect((e as Error).message).toContain('key:"a"');
        }
        expect(await t.store.getState(new ValueStateDescriptor('v')).value()).toBeUndefined();
        expect(await t.store.getMapState(new MapStateDescriptor<string, number>('m')).isEmpty()).toBe(true);
      });
    });
    return;
  }

  describe('synchronous access (getSync*State)', () => {
    it('all five kinds answer at once, without a Promise, and agree with the Promise-based handles', async () => {
      const t = await open();
      const h = handles(t);
      await resident(t, 'a', 'b');
      expect(h.v.value()).toEqual({ n: 0 });
      h.v.update({ n: 1 });
      h.l.add('x');
      h.l.addAll(['y', 'z']);
      h.m.put('one', 1);
      h.m.putAll(
        new Map([
          ['two', 2],
          ['three', 3],
        ]),
      );
      h.r.add(2);
      h.r.add(5);
      h.a.add(1);
      h.a.add(3);
      expect(h.v.value()).toEqual({ n: 1 });
      expect(h.l.get()).toEqual(['x', 'y', 'z']);
      expect(h.m.get('two')).toBe(2);
      expect(h.m.get('none')).toBeUndefined();
      expect(h.m.contains('three')).toBe(true);
      expect(h.m.contains('none')).toBe(false);
      expect(h.m.isEmpty()).toBe(false);
      expect(sortEntries([...h.m.entries()])).toEqual([
        ['one', 1],
        ['three', 3],
        ['two', 2],
      ]);
      expect([...h.m.keys()].sort()).toEqual(['one', 'three', 'two']);
      expect([...h.m.values()].sort()).toEqual([1, 2, 3]);
      expect(sortEntries([...h.m])).toEqual([
        ['one', 1],
        ['three', 3],
        ['two', 2],
      ]);
      expect(h.r.get()).toBe(7);
      expect(h.a.get()).toBe(2);
      // The Promise-based handles read the same data.
      expect(await t.store.getState(new ValueStateDescriptor('v')).value()).toEqual({ n: 1 });
      expect(await t.store.getListState(new ListStateDescriptor('l')).get()).toEqual(['x', 'y', 'z']);
      expect(sortEntries(await collect(t.store.getMapState(new MapStateDescriptor<string, number>('m')).entries()))).toEqual([
        ['one', 1],
        ['three', 3],
        ['two', 2],
      ]);
      // Another key sees nothing of it.
      t.key('b');
      expect(h.v.value()).toEqual({ n: 0 });
      expect(h.l.get()).toEqual([]);
      expect(h.m.isEmpty()).toBe(true);
      expect([...h.m.entries()]).toEqual([]);
      expect(h.r.get()).toBeUndefined();
      expect(h.a.get()).toBeUndefined();
    });

    it('removes and clears: update(undefined), list update([]), map remove() and clear() of every kind', async () => {
      const t = await open();
      const h = handles(t);
      await resident(t, 'a');
      h.v.update({ n: 3 });
      h.l.add('x');
      h.m.put('k', 1);
      h.m.put('j', 2);
      h.r.add(1);
      h.a.add(1);
      h.v.update(undefined);
      expect(h.v.value()).toEqual({ n: 0 });
      h.l.update([]);
      expect(h.l.get()).toEqual([]);
      h.m.remove('k');
      expect(h.m.contains('k')).toBe(false);
      expect(h.m.isEmpty()).toBe(false);
      h.m.clear();
      expect(h.m.isEmpty()).toBe(true);
      h.r.clear();
      h.a.clear();
      expect(h.r.get()).toBeUndefined();
      expect(h.a.get()).toBeUndefined();
      expect(await t.store.getMapState(new MapStateDescriptor<string, number>('m')).isEmpty()).toBe(true);
    });

    it('state written, flushed and restored into a new subtask reads synchronously once its keys are prefetched', async () => {
      const src = await open();
      const av = src.store.getState(new ValueStateDescriptor<{ n: number }>('v'));
      const al = src.store.getListState(new ListStateDescriptor<string>('l'));
      const am = src.store.getMapState(new MapStateDescriptor<string, number>('m'));
      const ar = src.store.getReducingState(sumOf('r'));
      const aa = src.store.getAggregatingState(new AggregatingStateDescriptor('a', average));
      for (const [i, k] of ['a', 'b', 'c'].entries()) {
        src.key(k);
        await av.update({ n: i });
        await al.addAll([k, k]);
        await am.putAll([
          [`${k}1`, i],
          [`${k}2`, i + 1],
        ]);
        await ar.add(i + 10);
        await aa.add(i * 2);
      }
      await src.kb.flush?.();
      const snapshot = await src.kb.snapshot();
      const t = await open();
      await t.kb.restore([snapshot]);
      const h = handles(t);
      await resident(t, 'c', 'a', 'b');
      for (const [i, k] of ['a', 'b', 'c'].entries()) {
        t.key(k);
        expect(h.v.value()).toEqual({ n: i });
        expect(h.l.get()).toEqual([k, k]);
        expect(h.m.get(`${k}2`)).toBe(i + 1);
        expect(h.m.contains(`${k}1`)).toBe(true);
        expect(h.m.isEmpty()).toBe(false);
        expect(sortEntries([...h.m.entries()])).toEqual([
          [`${k}1`, i],
          [`${k}2`, i + 1],
        ]);
        expect(h.r.get()).toBe(i + 10);
        expect(h.a.get()).toBe(i * 2);
        // Writes on top of restored state.
        h.l.add('more');
        h.m.put('new', 9);
        expect(h.l.get()).toEqual([k, k, 'more']);
        expect([...h.m.keys()].sort()).toEqual([`${k}1`, `${k}2`, 'new']);
      }
    });

    it('bad input is refused as by the Promise-based handles: undefined list elements and map values, invalid map keys', async () => {
      const t = await open();
      const h = handles(t);
      await resident(t, 'a');
      expect(() => h.l.add(undefined as unknown as string)).toThrow(/undefined/);
      expect(() => h.m.put('k', undefined as unknown as number)).toThrow(/undefined/);
      expect(() => h.m.put({} as unknown as string, 1)).toThrowError(expect.objectContaining({ code: 'INVALID_KEY' }));
      expect(h.l.get()).toEqual([]);
      expect(h.m.isEmpty()).toBe(true);
    });

    it('outside any record or timer a synchronous call throws NO_KEY_CONTEXT', async () => {
      const t = await open();
      const h = handles(t);
      t.kb.clearCurrentKey();
      expect(() => h.v.value()).toThrowError(expect.objectContaining({ code: 'NO_KEY_CONTEXT' }));
      expect(() => h.m.put('k', 1)).toThrowError(expect.objectContaining({ code: 'NO_KEY_CONTEXT' }));
    });
  });
}
