/**
 * Values: large values and structured values of every codec type, live and through snapshot and restore.
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
import { collect, firstMismatch, type Subtask } from '../harness.ts';
import { structuredValue } from './fixture.ts';
import type { StateSuite } from './context.ts';

/** Declares the cases of this behaviour; see `runStateBackendSuite`. */
export function valueCases({ open, N_LIST, N_MAP, reduced }: StateSuite): void {
  describe('large values', () => {
    it('a 1 MiB string and a 1 MiB Uint8Array are stored as single values and survive snapshot and restore', async () => {
      const t = await open();
      const s = t.store.getState(new ValueStateDescriptor<unknown>('big'));
      const text = '0123456789abcdef日本語😀'.repeat(Math.ceil((1 << 20) / 22)).slice(0, 1 << 20);
      const bytes = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 31) & 0xff);
      t.key('text');
      await s.update(text);
      t.key('bytes');
      await s.update(bytes);
      const restored = await open();
      await restored.kb.restore([await t.kb.snapshot()]);
      for (const u of [t, restored]) {
        const r = u.store.getState(new ValueStateDescriptor<unknown>('big'));
        u.key('text');
        const gotText = (await r.value()) as string;
        expect(gotText.length).toBe(text.length);
        expect(gotText === text).toBe(true);
        u.key('bytes');
        const gotBytes = (await r.value()) as Uint8Array;
        expect(gotBytes).toBeInstanceOf(Uint8Array);
        expect(firstMismatch(gotBytes, bytes.length, (i) => bytes[i])).toBe(-1);
      }
    });

    it(`a ${N_LIST}-element list keeps every element in order, also through snapshot and restore${reduced}`, async () => {
      const t = await open();
      const s = t.store.getListState(new ListStateDescriptor<number>('long'));
      t.key('k');
      await s.addAll(Array.from({ length: N_LIST - 10 }, (_, i) => i));
      for (let i = N_LIST - 10; i < N_LIST; i++) await s.add(i);
      expect(firstMismatch(await s.get(), N_LIST, (i) => i)).toBe(-1);
      const restored = await open();
      await restored.kb.restore([await t.kb.snapshot()]);
      restored.key('k');
      const list = await restored.store.getListState(new ListStateDescriptor<number>('long')).get();
      expect(firstMismatch(list, N_LIST, (i) => i)).toBe(-1);
    });

    it(`a map of ${N_MAP} entries yields all of them from entries(), keys() and values(), also after restore${reduced}`, async () => {
      const t = await open();
      const s = t.store.getMapState(new MapStateDescriptor<number, string>('wide'));
      t.key('k');
      await s.putAll(Array.from({ length: N_MAP }, (_, i): [number, string] => [i, `v${i}`]));
      const check = async (u: Subtask) => {
        const m = u.store.getMapState(new MapStateDescriptor<number, string>('wide'));
        u.key('k');
        const entries = (await collect(m.entries())).sort((a, b) => a[0] - b[0]);
        expect(
          firstMismatch(
            entries.map(([k, v]) => `${k}=${v}`),
            N_MAP,
            (i) => `${i}=v${i}`,
          ),
        ).toBe(-1);
        expect((await collect(m.keys())).length).toBe(N_MAP);
        expect(new Set(await collect(m.values())).size).toBe(N_MAP);
        expect(await m.get(N_MAP - 1)).toBe(`v${N_MAP - 1}`);
      };
      await check(t);
      const restored = await open();
      await restored.kb.restore([await t.kb.snapshot()]);
      await check(restored);
    });
  });

  describe('value semantics', () => {
    it('structured values (nested objects, arrays, Map, Set, Date, bigint, typed arrays, special numbers, lone surrogates) read back deep-equal', async () => {
      const t = await open();
      const v = t.store.getState(new ValueStateDescriptor<unknown>('v'));
      const l = t.store.getListState(new ListStateDescriptor<unknown>('l'));
      const m = t.store.getMapState(new MapStateDescriptor<string, unknown>('m'));
      t.key('k');
      await v.update(structuredValue());
      await l.addAll([structuredValue(), structuredValue()]);
      await m.put('x', structuredValue());
      expect(await v.value()).toEqual(structuredValue());
      expect(await l.get()).toEqual([structuredValue(), structuredValue()]);
      expect(await m.get('x')).toEqual(structuredValue());
    });

    it('structured values round-trip deep-equal through snapshot and restore, in every state kind', async () => {
      const t = await open();
      const v = t.store.getState(new ValueStateDescriptor<unknown>('v'));
      const l = t.store.getListState(new ListStateDescriptor<unknown>('l'));
      const m = t.store.getMapState(new MapStateDescriptor<string, unknown>('m'));
      const r = t.store.getReducingState(new ReducingStateDescriptor<unknown>('r', (_, b) => b));
      const aggregate: AggregateFunction<unknown, unknown, unknown> = { createAccumulator: () => null, add: (x) => x, getResult: (acc) => acc };
      const g = t.store.getAggregatingState(new AggregatingStateDescriptor('g', aggregate));
      t.key(['k', 1n]);
      await v.update(structuredValue());
      await l.addAll([structuredValue(), 1, structuredValue()]);
      await m.putAll([
        ['x', structuredValue()],
        ['y', null],
      ]);
      await r.add(structuredValue());
      await g.add(structuredValue());
      const restored = await open();
      await restored.kb.restore([await t.kb.snapshot()]);
      const s = restored.store;
      restored.key(['k', 1n]);
      expect(await s.getState(new ValueStateDescriptor<unknown>('v')).value()).toEqual(structuredValue());
      expect(await s.getListState(new ListStateDescriptor<unknown>('l')).get()).toEqual([structuredValue(), 1, structuredValue()]);
      const rm = s.getMapState(new MapStateDescriptor<string, unknown>('m'));
      expect(await rm.get('x')).toEqual(structuredValue());
      expect(await rm.contains('y')).toBe(true);
      expect(await rm.get('y')).toBeNull();
      expect(await s.getReducingState(new ReducingStateDescriptor<unknown>('r', (_, b) => b)).get()).toEqual(structuredValue());
      expect(await s.getAggregatingState(new AggregatingStateDescriptor('g', aggregate)).get()).toEqual(structuredValue());
    });
  });
}
