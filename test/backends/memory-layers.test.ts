import { describe, expect, it } from 'vitest';
import { ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor } from '../../src/api/descriptors.ts';
import { HashMapStateBackend } from '../../src/backends/memory.ts';
import { LayeredMap, type KeyGroupMaps, type KeyMap } from '../../src/backends/memory-layers.ts';
import { keyGroupForKey } from '../../src/format/key-groups.ts';
import type { KeyId } from '../../src/format/key-ids.ts';
import type { KeyedStateSnapshot } from '../../src/format/snapshot-format.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import { keyedOptions } from '../helpers/keyed-options.ts';

/** Seeded xorshift, so a failure replays. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const view = (m: KeyMap) => ({ entries: [...m], size: m.size });

describe('LayeredMap (writes over a map a snapshot still reads)', () => {
  it.each([1, 2, 3, 4, 5])(
    'reads, sizes and orders like a plain Map given the same writes, leaves its base alone, and merges without changing what it reads (seed %i)',
    (seed) => {
      const r = rng(seed);
      const base = new Map<KeyId, unknown>();
      for (let i = 0; i < 40; i++) base.set(`k${Math.floor(r() * 60)}`, i);
      const frozenBase = [...base];
      const model = new Map(base);
      const slot: KeyGroupMaps = [base];
      let top: KeyMap = new LayeredMap(base, slot, 0);
      const layers: LayeredMap[] = [top as LayeredMap];
      for (let step = 0; step < 600; step++) {
        const id = `k${Math.floor(r() * 60)}`;
        const op = r();
        if (op < 0.5) {
          top.set(id, step);
          model.set(id, step);
        } else if (op < 0.85) expect(top.delete(id)).toBe(model.delete(id));
        else if (op < 0.9 && layers.length < 3) {
          // A second snapshot while the first still reads: a layer over the layer.
          top = new LayeredMap(top, slot, 0);
          layers.push(top as LayeredMap);
        }
        expect(top.get(id)).toBe(model.get(id));
        expect(top.has(id)).toBe(model.has(id));
        if (step % 25 === 0) expect(view(top)).toEqual(view(model));
      }
      expect(view(top)).toEqual(view(model));
      expect([...base]).toEqual(frozenBase);
      // Merging bottom-up, a few changes at a time, never changes what the top reads.
      for (const layer of layers) {
        expect(layer.settle(() => false)).toBe(base); // the emptied layers below are skipped
        while (!layer.mergeSome(3)) expect(view(top)).toEqual(view(model));
        expect(layer.empty).toBe(true);
      }
      expect(view(top)).toEqual(view(model));
      expect([...base]).toEqual([...model]);
    },
  );
});

/** A HashMap keyed backend owning every key group, with a value, a list and a map state. */
function heap() {
  const kb = new HashMapStateBackend().createKeyedStateBackend(keyedOptions('layers'));
  const store = new KeyedStateStore(kb, 'Op (1/1)');
  return {
    kb,
    value: store.getState(new ValueStateDescriptor<{ n: number }>('v')),
    list: store.getListState(new ListStateDescriptor<number>('l')),
    map: store.getMapState(new MapStateDescriptor<number, number>('m')),
  };
}
type Heap = ReturnType<typeof heap>;

const bytesOf = (s: KeyedStateSnapshot) => [...s.keyGroups].sort((a, b) => a[0] - b[0]).map(([g, b]) => [g, Array.from(b)]);
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

/** One random write, remove or clear, applied to both backends alike. */
async function randomOp(r: () => number, step: number, both: readonly Heap[]): Promise<void> {
  const key = `key-${Math.floor(r() * 400)}`;
  const op = Math.floor(r() * 9);
  const n = Math.floor(r() * 5);
  for (const h of both) {
    h.kb.setCurrentKey(key, keyGroupForKey(key, 128));
    if (op === 0) await h.value.update({ n: step });
    else if (op === 1) {
      // Changed in place after a read: must not reach a pending snapshot.
      const v = await h.value.value();
      if (v !== undefined) v.n += 1000;
      await h.value.update(v ?? { n: -step });
    } else if (op === 2) await h.value.clear();
    else if (op === 3) await h.list.add(step);
    else if (op === 4) await h.list.update(n === 0 ? [] : [step, n]);
    else if (op === 5) await h.list.clear();
    else if (op === 6) await h.map.put(n, step);
    else if (op === 7) await h.map.remove(n);
    else await h.map.clear();
  }
}

describe('HashMapStateBackend snapshots with writes while they encode', () => {
  it.each([11, 12, 13, 14, 15, 16])(
    'every pending snapshot holds exactly the state at its call, byte for byte as a snapshot of a backend that saw the same writes and no writes while encoding (seed %i)',
    async (seed) => {
      const r = rng(seed);
      const live = heap();
      const quiet = heap();
      const pending: Array<{ snap: Promise<KeyedStateSnapshot>; expected: KeyedStateSnapshot }> = [];
      let checked = 0;
      for (let step = 0; step < 3000; step++) {
        const dice = r();
        if (dice < 0.01 && pending.length < 3) {
          live.kb.clearCurrentKey();
          quiet.kb.clearCurrentKey();
          // The quiet side's snapshot is awaited at once: nothing is written while it encodes.
          // (It goes first: awaiting it after the live call would let the live one encode too.)
          const expected = await quiet.kb.snapshot();
          pending.push({ snap: live.kb.snapshot(), expected });
        } else if (dice < 0.015 && pending.length > 0) {
          const { snap, expected } = pending.shift()!;
          expect(bytesOf(await snap)).toEqual(bytesOf(expected));
          checked++;
        } else if (dice < 0.025)
          await turn(); // encoding and merging get a turn
        else await randomOp(r, step, [live, quiet]);
      }
      for (const { snap, expected } of pending) expect(bytesOf(await snap)).toEqual(bytesOf(expected));
      checked += pending.length;
      expect(checked).toBeGreaterThan(10);
      // Once every layer has merged, the state still reads and snapshots as the quiet one.
      for (let i = 0; i < 20; i++) await turn();
      live.kb.clearCurrentKey();
      quiet.kb.clearCurrentKey();
      expect(bytesOf(await live.kb.snapshot())).toEqual(bytesOf(await quiet.kb.snapshot()));
      // And no layer is left (TTL cleanup waits while there are).
      for (let i = 0; i < 20; i++) await turn();
      expect((live.kb as unknown as { support: { layered: boolean } }).support.layered).toBe(false);
    },
    60_000,
  );
});

describe('HashMapStateBackend incremental cleanup with snapshots in between', () => {
  it('resumes where it paused: snapshots every few cleanup steps do not restart its round, so every stale entry goes', async () => {
    const h = heap();
    for (let i = 0; i < 2000; i++) {
      h.kb.setCurrentKey(`key-${i}`, keyGroupForKey(`key-${i}`, 128));
      await h.value.update({ n: i });
    }
    const stale = (stored: unknown) => (stored as { n: number }).n % 2 === 0;
    let calls = 0;
    let visited = 0;
    // 20 entries per step and a snapshot (with a write into a frozen group) every 5 steps:
    // a round that started over at each snapshot would never get past the first ~100 entries.
    while (visited < 2 * 2000 && calls < 1000) {
      calls++;
      if (calls % 5 === 0) {
        const pending = h.kb.snapshot();
        expect(await h.kb.pruneEntries!('v', 20, stale)).toBe(20); // waits while the snapshot encodes
        h.kb.setCurrentKey('key-1', keyGroupForKey('key-1', 128));
        await h.value.update({ n: 1 });
        await pending;
        for (let i = 0; i < 5; i++) await turn(); // the layer merges down
      }
      visited += await h.kb.pruneEntries!('v', 20, stale);
    }
    let left = 0;
    for (let i = 0; i < 2000; i++) {
      h.kb.setCurrentKey(`key-${i}`, keyGroupForKey(`key-${i}`, 128));
      if ((await h.value.value()) !== undefined) left++;
    }
    expect(left).toBe(1000);
  });
});
