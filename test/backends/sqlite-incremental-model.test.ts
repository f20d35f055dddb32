/**
 * A model test of the SQLite backend's incremental snapshots: a delta holds the state at
 * its barrier (the `snapshot()` call) while writes, removals, TTL expiries and cache
 * write-backs go on as it encodes. Random operations on four states run against a
 * plain-object model; at each barrier the model is copied; every checkpoint's chain
 * (its base and deltas, following `baseCheckpointId`) is merged, restored at
 * parallelism 2 and compared with the copy. Some checkpoints never complete and some
 * snapshots overlap, so deltas span several epochs and build on older bases.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/api/clock.ts';
import { ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor } from '../../src/api/descriptors.ts';
import type { ListState, MapState, ValueState } from '../../src/api/state.ts';
import { StateTtlConfig } from '../../src/api/ttl.ts';
import { SqliteStateBackend } from '../../src/backends/sqlite/index.ts';
import { mergeKeyedChain } from '../../src/format/checkpoint-chain.ts';
import { keyGroupForKey } from '../../src/format/key-groups.ts';
import type { KeyedStateSnapshot } from '../../src/format/snapshot-format.ts';
import type { KeyedStateBackend } from '../../src/state/backend.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import { keyedOptions } from '../helpers/keyed-options.ts';

const MAX_P = 128;
const TTL = 50;
const KEYS = 200;
const CHECKPOINTS = 24;

/** A seeded PRNG (mulberry32), so a failure replays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The state as the user sees it: per key, each state's value (TTL values with their write time). */
interface Model {
  v: Map<string, number>;
  t: Map<string, { value: number; at: number }>;
  l: Map<string, number[]>;
  m: Map<string, Map<string, number>>;
}

function copy(m: Model): Model {
  return {
    v: new Map(m.v),
    t: new Map(m.t),
    l: new Map([...m.l].map(([k, xs]) => [k, [...xs]])),
    m: new Map([...m.m].map(([k, e]) => [k, new Map(e)])),
  };
}

interface States {
  v: ValueState<number>;
  t: ValueState<number>;
  l: ListState<number>;
  m: MapState<string, number>;
}

function register(kb: KeyedStateBackend, clock: ManualClock): States {
  const store = new KeyedStateStore(kb, 'Model (1/1)', clock);
  return {
    v: store.getState(new ValueStateDescriptor<number>('v')),
    t: store.getState(new ValueStateDescriptor<number>('t').enableTimeToLive(StateTtlConfig.newBuilder(TTL).build())),
    l: store.getListState(new ListStateDescriptor<number>('l')),
    m: store.getMapState(new MapStateDescriptor<string, number>('m')),
  };
}

const live: KeyedStateBackend[] = [];
let seq = 0;

async function open(parallelism: number, subtask: number, cacheBytes: number): Promise<KeyedStateBackend> {
  const kb = await new SqliteStateBackend({ vfs: 'memory', cacheBytes }).createKeyedStateBackend(
    keyedOptions('sqlite-incremental-model', {
      operatorId: `op-${++seq}`,
      operatorName: 'Model (1/1)',
      subtaskIndex: subtask,
      parallelism,
      maxParallelism: MAX_P,
    }),
  );
  live.push(kb);
  return kb;
}

/** Restores a checkpoint's merged chain at parallelism 2 and reads back every key's visible state at `now`. */
async function restoredView(merged: KeyedStateSnapshot, now: number, keys: readonly string[]): Promise<Model> {
  const out: Model = { v: new Map(), t: new Map(), l: new Map(), m: new Map() };
  for (let subtask = 0; subtask < 2; subtask++) {
    const kb = await open(2, subtask, 8 << 20);
    await kb.restore([merged]);
    const s = register(kb, new ManualClock(now));
    for (const k of keys) {
      const kg = keyGroupForKey(k, MAX_P);
      if (!kb.keyGroupRange.contains(kg)) continue;
      kb.setCurrentKey(k, kg);
      const v = await s.v.value();
      if (v !== undefined) out.v.set(k, v);
      const t = await s.t.value();
      if (t !== undefined) out.t.set(k, { value: t, at: 0 });
      const l = [...((await s.l.get()) ?? [])];
      if (l.length > 0) out.l.set(k, l);
      const m = new Map<string, number>();
      for await (const [uk, x] of s.m.entries()) m.set(uk, x);
      if (m.size > 0) out.m.set(k, m);
    }
    kb.clearCurrentKey();
  }
  return out;
}

/** The model as a restore at `now` shows it: TTL values written at or before `now - TTL` are expired. */
function visible(m: Model, now: number): Model {
  const t = new Map<string, { value: number; at: number }>();
  for (const [k, e] of m.t) if (e.at + TTL > now) t.set(k, { value: e.value, at: 0 });
  return { ...m, t };
}

function sorted(m: Model) {
  const entries = <V>(x: Map<string, V>) => [...x].sort(([a], [b]) => (a < b ? -1 : 1));
  return { v: entries(m.v), t: entries(m.t), l: entries(m.l), m: entries(m.m).map(([k, e]) => [k, entries(e)]) };
}

afterEach(async () => {
  vi.restoreAllMocks();
  for (const kb of live.splice(0)) await kb.dispose();
});

describe('SqliteStateBackend incremental snapshots against a model', () => {
  // A tiny cache writes rows back all the time (the delta reads marks); a large one keeps them dirty until the barrier (the delta holds cache rows).
  it.each([
    ['a 2 KiB cache', 2048],
    ['the default 8 MiB cache', 8 << 20],
  ])(
    'with %s, every checkpoint (chains of 10 and more deltas) restores at parallelism 2 to the state at its barrier',
    async (_name, cacheBytes) => {
      // Every slice is due at once, so the encoding gives the writes below a turn between pages.
      let fakeNow = 0;
      vi.spyOn(Date, 'now').mockImplementation(() => (fakeNow += 10));
      const rnd = prng(cacheBytes);
      const keys = Array.from({ length: KEYS }, (_, i) => `k${i}`);
      const clock = new ManualClock(1_000);
      const kb = await open(1, 0, cacheBytes);
      const s = register(kb, clock);
      const model: Model = { v: new Map(), t: new Map(), l: new Map(), m: new Map() };

      /** One random operation; the model changes in the same synchronous step as the backend (SQLite answers at once). */
      const op = async () => {
        const k = keys[Math.floor(rnd() * KEYS)]!;
        kb.setCurrentKey(k, keyGroupForKey(k, MAX_P));
        const x = Math.floor(rnd() * 1000);
        const r = rnd();
        if (r < 0.25) {
          model.v.set(k, x);
          await s.v.update(x);
        } else if (r < 0.32) {
          model.v.delete(k);
          await s.v.clear();
        } else if (r < 0.52) {
          model.t.set(k, { value: x, at: clock.now() });
          await s.t.update(x);
        } else if (r < 0.57) {
          model.t.delete(k);
          await s.t.clear();
        } else if (r < 0.7) {
          model.l.set(k, [...(model.l.get(k) ?? []), x]);
          await s.l.add(x);
        } else if (r < 0.74) {
          model.l.delete(k);
          await s.l.clear();
        } else if (r < 0.9) {
          const uk = `u${x % 5}`;
          const e = model.m.get(k) ?? new Map<string, number>();
          model.m.set(k, e.set(uk, x));
          await s.m.put(uk, x);
        } else if (r < 0.95) {
          const uk = `u${x % 5}`;
          const e = model.m.get(k);
          e?.delete(uk);
          if (e?.size === 0) model.m.delete(k);
          await s.m.remove(uk);
        } else if (r < 0.98) {
          // Time passes: TTL values expire; the flush writes the cache back and deletes expired rows.
          clock.set(clock.now() + Math.floor(rnd() * 30));
          await kb.flush?.();
        } else {
          model.m.delete(k);
          await s.m.clear();
        }
        kb.clearCurrentKey();
      };

      const snapshots = new Map<number, KeyedStateSnapshot>();
      const atBarrier = new Map<number, { model: Model; now: number }>();
      const pending: Array<{ id: number; done: Promise<KeyedStateSnapshot> }> = [];
      let opsWhilePending = 0;
      let deltas = 0;
      for (let id = 1; id <= CHECKPOINTS; id++) {
        for (let i = 0; i < 300; i++) {
          await op();
          if (pending.length > 0) opsWhilePending++;
          // The first 20 operations after a barrier run before its encoding starts (it waits a turn), later ones between its pages.
          if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 0));
        }
        // The barrier: the snapshot call and the model copy, with no operation in between.
        const done = kb.snapshot({ checkpointId: id, incremental: true });
        atBarrier.set(id, { model: copy(model), now: clock.now() });
        pending.push({ id, done });
        // Checkpoints overlap (two in flight), and every fifth one never completes.
        while (pending.length > (id % 3 === 0 ? 0 : 1)) {
          const p = pending.shift()!;
          const snap = await p.done;
          snapshots.set(p.id, snap);
          if (snap.incremental !== undefined) deltas++;
          if (p.id % 5 !== 0) kb.notifyCheckpointComplete!(p.id);
        }
      }
      expect(opsWhilePending).toBeGreaterThan(0);
      expect(deltas).toBeGreaterThanOrEqual(10);

      let longest = 0;
      for (let id = 1; id <= CHECKPOINTS; id++) {
        const chain: KeyedStateSnapshot[] = [snapshots.get(id)!];
        while (chain[0]!.incremental !== undefined) chain.unshift(snapshots.get(chain[0]!.incremental.baseCheckpointId)!);
        longest = Math.max(longest, chain.length);
        const { model: expected, now } = atBarrier.get(id)!;
        const got = await restoredView(mergeKeyedChain(chain), now, keys);
        expect(sorted(got), `checkpoint ${id}`).toEqual(sorted(visible(expected, now)));
      }
      // A chain of a full snapshot and at least ten deltas was restored.
      expect(longest).toBeGreaterThanOrEqual(11);
    },
    120_000,
  );
});
