/**
 * Isolation: keys of every type, state names, namespaces and operators never share state.
 */
import { describe, expect, it } from 'vitest';
import { ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor } from '../../../src/api/descriptors.ts';
import type { Key } from '../../../src/format/key-bytes.ts';
import { inNamespace, collect, keyOrder, sortKeys, sortEntries } from '../harness.ts';
import { FX, fixtureStates } from './fixture.ts';
import type { StateSuite } from './context.ts';

/** Declares the cases of this behaviour; see `runStateBackendSuite`. */
export function isolationCases({ open, N_KEYS, reduced }: StateSuite): void {
  describe('isolation', () => {
    it(`${N_KEYS} keys written in interleaved rounds each keep their own state${reduced}`, async () => {
      const t = await open();
      const v = t.store.getState(new ValueStateDescriptor<string>('v'));
      const l = t.store.getListState(new ListStateDescriptor<number>('l'));
      const m = t.store.getMapState(new MapStateDescriptor<number, number>('m'));
      const keys = Array.from({ length: N_KEYS }, (_, i) => `user-${i}`);
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < N_KEYS; i++) {
          t.key(keys[i]!);
          await v.update(`${i}:${round}`);
          await l.add(round * N_KEYS + i);
          await m.put(round, i);
        }
      }
      for (let i = 0; i < N_KEYS; i++) {
        t.key(keys[i]!);
        expect(await v.value()).toBe(`${i}:2`);
        expect(await l.get()).toEqual([i, N_KEYS + i, 2 * N_KEYS + i]);
        expect(sortEntries(await collect(m.entries()))).toEqual([
          [0, i],
          [1, i],
          [2, i],
        ]);
      }
      expect(sortKeys(await collect(t.kb.keys('v', '')))).toEqual(sortKeys(keys));
    });

    it('keys of every type are distinct keys: 0, -1, 1.5, 1 vs "1" vs 1n vs true, nested arrays, unicode', async () => {
      const t = await open();
      const s = t.store.getState(new ValueStateDescriptor<string>('v'));
      const keys: Key[] = [
        '1',
        1,
        1n,
        true,
        'true',
        [1],
        ['1'],
        [[1]],
        [1, [2, ['deep', 3n]]],
        [],
        '',
        0,
        -1,
        -123456.789,
        1.5,
        Number.MAX_VALUE,
        2n ** 100n,
        -(2n ** 100n),
        false,
        'é',
        'e\u0301',
        '日本語',
        '😀',
        '\u0000',
        '\u0001a',
        '\u0001s',
        'a'.repeat(1000),
      ];
      for (const k of keys) {
        t.key(k);
        await s.update(keyOrder(k));
      }
      for (const k of keys) {
        t.key(k);
        expect(await s.value(), keyOrder(k)).toBe(keyOrder(k));
      }
      expect(sortKeys(await collect(t.kb.keys('v', '')))).toEqual(sortKeys(keys));
    });

    it('-0 and 0 are the same key, as === says', async () => {
      const t = await open();
      const s = t.store.getState(new ValueStateDescriptor<string>('v'));
      t.key(-0);
      await s.update('written under -0');
      t.key(0);
      expect(await s.value()).toBe('written under -0');
      expect(await collect(t.kb.keys('v', ''))).toEqual([0]);
    });

    it('states with different names never share data, also when names are prefixes of each other or contain punctuation', async () => {
      const t = await open();
      const names = ['a', 'ab', 'a.b', 'a/b', 'a:b', 'a b', `quote'"\``, '日本', 'DROP TABLE state;--', 'A'];
      const states = names.map((n) => t.store.getState(new ValueStateDescriptor<string>(n)));
      const lists = names.map((n) => t.store.getListState(new ListStateDescriptor<string>(`${n}-list`)));
      t.key('k');
      for (let i = 0; i < names.length; i++) {
        await states[i]!.update(names[i]!);
        await lists[i]!.add(names[i]!);
      }
      for (let i = 0; i < names.length; i++) {
        expect(await states[i]!.value()).toBe(names[i]);
        expect(await lists[i]!.get()).toEqual([names[i]]);
      }
      await states[0]!.clear();
      expect(await states[1]!.value()).toBe('ab');
    });

    it('namespaces keep the state of one key apart, for every state kind', async () => {
      const t = await open();
      const s = fixtureStates(t.store);
      const namespaces = ['', 'a', 'ab', 'a/b', 'window:1000-2000', '日本'];
      t.key('k');
      for (const [i, ns] of namespaces.entries()) {
        for (const state of Object.values(s)) inNamespace(state, ns);
        await s.value.update(ns);
        await s.list.addAll([ns, i]);
        await s.map.put(ns, i);
        await s.sum.add(i);
        await s.avg.add(i);
      }
      for (const [i, ns] of namespaces.entries()) {
        for (const state of Object.values(s)) inNamespace(state, ns);
        expect(await s.value.value()).toBe(ns);
        expect(await s.list.get()).toEqual([ns, i]);
        expect(await collect(s.map.entries())).toEqual([[ns, i]]);
        expect(await s.sum.get()).toBe(i);
        expect(await s.avg.get()).toBe(i);
        expect(await collect(t.kb.keys(FX.value, ns))).toEqual(['k']);
      }
      for (const state of Object.values(s)) inNamespace(state, 'a');
      for (const state of Object.values(s)) await state.clear();
      expect(await collect(t.kb.keys(FX.map, 'a'))).toEqual([]);
      for (const state of Object.values(s)) inNamespace(state, 'ab');
      expect(await s.value.value()).toBe('ab');
      expect(await collect(s.map.entries())).toEqual([['ab', 2]]);
    });

    it('two operators of one job keep their state apart, under the same state names and keys', async () => {
      const a = await open({ operatorId: 'left' });
      const b = await open({ operatorId: 'right' });
      const va = a.store.getState(new ValueStateDescriptor<string>('v'));
      const vb = b.store.getState(new ValueStateDescriptor<string>('v'));
      a.key('k');
      b.key('k');
      await va.update('left');
      await vb.update('right');
      expect(await va.value()).toBe('left');
      expect(await vb.value()).toBe('right');
      await vb.clear();
      expect(await va.value()).toBe('left');
    });
  });
}
