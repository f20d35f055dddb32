/**
 * The state-TTL conformance suite: Flink's TTL semantics over one state backend, reached
 * only through the backend contract and the five user-facing states (as
 * `state-backend.suite.ts` does). Every backend's test file runs it in one line:
 *
 *   ttlSuite('hashmap', () => new HashMapStateBackend());
 *
 * Time is a ManualClock. Nothing here is platform-specific, so it runs in every runtime.
 * Backends with native cleanup (`nativeTtlCleanup`) are given a `flush()` before entries
 * are counted, which is when the contract says they clean up at the latest.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/api/clock.ts';
import { StreamExecutionEnvironment } from '../../src/datastream/environment.ts';
import { KeyedProcessFunction, type Collector, type KeyedProcessContext, type RuntimeContext } from '../../src/api/functions.ts';
import type { ValueState } from '../../src/api/state.ts';
import {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  ValueStateDescriptor,
  type StateKind,
} from '../../src/api/descriptors.ts';
import { EddyError } from '../../src/api/errors.ts';
import { StateTtlConfig, StateVisibility, UpdateType, type StateTtlConfigBuilder } from '../../src/api/ttl.ts';
import { HashMapStateBackend } from '../../src/backends/memory.ts';
import type { Key } from '../../src/format/key-bytes.ts';
import { keyGroupForKey, keyGroupRangeForSubtask } from '../../src/format/key-groups.ts';
import type { KeyedStateBackend, StateBackend } from '../../src/state/backend.ts';
import { KeyedStateStore } from '../../src/state/keyed-state-store.ts';
import type { InternalKvState } from '../../src/state/keyed-states.ts';
import { readKeyGroup, type KeyedStateSnapshot } from '../../src/format/snapshot-format.ts';

const MAX_P = 128;
const TTL = 100;
const RUN_ID = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
let jobCounter = 0;

/** One state with TTL, seen through a uniform lens: write a number, read what the user sees. */
interface Handle {
  write(x: number): Promise<void>;
  /** The visible value; an empty list reads as undefined. */
  read(): Promise<unknown>;
  clear(): Promise<void>;
  readonly state: object;
}

interface Kind {
  readonly kind: StateKind;
  register(store: KeyedStateStore, name: string, ttl?: StateTtlConfig): Handle;
  /** What one written `x` reads as. */
  one(x: number): unknown;
  /** What `write(5)` onto an expired-but-returned `1` reads as (ReturnExpiredIfNotCleanedUp). */
  ontoExpired: unknown;
}

const withTtl = <D extends { enableTimeToLive(c: StateTtlConfig): D }>(d: D, ttl?: StateTtlConfig): D => (ttl ? d.enableTimeToLive(ttl) : d);
const sumAgg = {
  createAccumulator: () => ({ sum: 0 }),
  add: (v: number, acc: { sum: number }) => ({ sum: acc.sum + v }),
  getResult: (acc: { sum: number }) => acc.sum,
};

const KINDS: readonly Kind[] = [
  {
    kind: 'value',
    register: (store, name, ttl) => {
      const s = store.getState(withTtl(new ValueStateDescriptor<number>(name), ttl));
      return { state: s, write: (x) => s.update(x), read: () => s.value(), clear: () => s.clear() };
    },
    one: (x) => x,
    ontoExpired: 5,
  },
  {
    kind: 'list',
    register: (store, name, ttl) => {
      const s = store.getListState(withTtl(new ListStateDescriptor<number>(name), ttl));
      return { state: s, write: (x) => s.add(x), read: async () => ((await s.get()).length === 0 ? undefined : s.get()), clear: () => s.clear() };
    },
    one: (x) => [x],
    ontoExpired: [1, 5],
  },
  {
    kind: 'map',
    register: (store, name, ttl) => {
      const s = store.getMapState(withTtl(new MapStateDescriptor<string, number>(name), ttl));
      return { state: s, write: (x) => s.put('u', x), read: () => s.get('u'), clear: () => s.clear() };
    },
    one: (x) => x,
    ontoExpired: 5,
  },
  {
    kind: 'reducing',
    register: (store, name, ttl) => {
      const s = store.getReducingState(withTtl(new ReducingStateDescriptor<number>(name, (a, b) => a + b), ttl));
      return { state: s, write: (x) => s.add(x), read: () => s.get(), clear: () => s.clear() };
    },
    one: (x) => x,
    ontoExpired: 6,
  },
  {
    kind: 'aggregating',
    register: (store, name, ttl) => {
      const s = store.getAggregatingState(withTtl(new AggregatingStateDescriptor(name, sumAgg), ttl));
      return { state: s, write: (x) => s.add(x), read: () => s.get(), clear: () => s.clear() };
    },
    one: (x) => x,
    ontoExpired: 6,
  },
];

const builder = (): StateTtlConfigBuilder => StateTtlConfig.newBuilder(TTL);
/** TTL without any cleanup: what reads see comes from the read path alone. */
const bare = (b: StateTtlConfigBuilder = builder()) => b.disableCleanupInBackground().build();

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function failureOf(action: () => unknown): Promise<unknown> {
  try {
    await action();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** (state, key) pairs in a snapshot, with their payloads. */
function entriesOf(snapshot: KeyedStateSnapshot): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const bytes of snapshot.keyGroups.values()) {
    for (const e of readKeyGroup(bytes, snapshot.states)) {
      const payload = e.shape === 'value' ? e.value : e.shape === 'list' ? e.values : e.entries;
      out.set(`${snapshot.states[e.stateIndex]!.name}/${String(e.key)}`, payload);
    }
  }
  return out;
}

/** Declares the TTL suite for one backend; `makeBackend` is called before every test. */
export function ttlSuite(name: string, makeBackend: () => StateBackend | Promise<StateBackend>): void {
  describe(`state TTL conformance: ${name}`, () => {
    let factory: StateBackend;
    let jobId = '';
    let live: KeyedStateBackend[] = [];
    let operatorSeq = 0;

    beforeEach(async () => {
      factory = await makeBackend();
      jobId = `eddy-ttl-${name}-${RUN_ID}-${++jobCounter}`;
      live = [];
    });

    afterEach(async () => {
      for (const kb of live.splice(0)) await kb.dispose();
    });

    async function open(clock: ManualClock, backend: StateBackend = factory) {
      const operatorName = 'Ttl (1/1)';
      const kb = await backend.createKeyedStateBackend({
        jobId,
        operatorId: `operator-${++operatorSeq}`,
        operatorName,
        subtaskIndex: 0,
        parallelism: 1,
        maxParallelism: MAX_P,
        keyGroupRange: keyGroupRangeForSubtask(MAX_P, 1, 0),
      });
      live.push(kb);
      return {
        kb,
        store: new KeyedStateStore(kb, operatorName, clock),
        key: (k: Key) => kb.setCurrentKey(k, keyGroupForKey(k, MAX_P)),
        /** Keys with state, after the backend had its chance to clean up natively. */
        count: async (state: string, namespace = '') => {
          if (kb.nativeTtlCleanup) await kb.flush?.();
          return (await collect(kb.keys(state, namespace))).length;
        },
      };
    }

    async function restored(snapshot: KeyedStateSnapshot, clock: ManualClock, backend?: StateBackend) {
      const t = await open(clock, backend);
      await t.kb.restore([snapshot]);
      return t;
    }

    describe('update type × visibility × state kind (no cleanup: the read path alone)', () => {
      for (const updateType of Object.values(UpdateType)) {
        for (const visibility of Object.values(StateVisibility)) {
          for (const k of KINDS) {
            const returnExpired = visibility === StateVisibility.ReturnExpiredIfNotCleanedUp;
            const onRead = updateType === UpdateType.OnReadAndWrite;
            it(`${k.kind} state, ${updateType}, ${visibility}: expires ttl ms after the last ${onRead ? 'read or write' : 'write'}, ${returnExpired ? 'is still returned after' : 'reads as absent after'}, and clear() removes it at once`, async () => {
              const clock = new ManualClock(1000);
              const t = await open(clock);
              const s = k.register(t.store, 'matrix', bare(builder().setUpdateType(updateType).setStateVisibility(visibility)));
              const expired = returnExpired ? k.one(1) : undefined;
              t.key('k');
              await s.write(1);
              clock.set(1099);
              expect(await s.read(), '1 ms before it expires').toEqual(k.one(1));
              clock.set(1100);
              expect(await s.read(), 'ttl after the write').toEqual(onRead ? k.one(1) : expired);
              if (onRead) {
                clock.set(1199);
                expect(await s.read(), 'renewed by the read at 1100').toEqual(k.one(1));
                clock.set(1299);
                expect(await s.read(), 'ttl after the last read').toEqual(expired);
              }
              t.key('other');
              expect(await s.read(), 'another key').toBeUndefined();
              t.key('k');
              clock.set(50_000);
              expect(await s.read(), 'long after, read again').toEqual(expired);
              await s.write(5);
              expect(await s.read(), 'written after expiry').toEqual(returnExpired ? k.ontoExpired : k.one(5));
              await s.clear();
              expect(await s.read(), 'after clear()').toBeUndefined();
            });
          }
        }
      }
    });

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

    describe('cleanup', () => {
      /** `n` keys written at t=0 into state `name`; the clock is then past their TTL. */
      async function expiredKeys(t: Awaited<ReturnType<typeof open>>, clock: ManualClock, k: Kind, ttl: StateTtlConfig, n: number): Promise<Handle> {
        const s = k.register(t.store, 'c', ttl);
        clock.set(0);
        for (let i = 0; i < n; i++) {
          t.key(`old-${i}`);
          await s.write(i);
        }
        clock.set(1000);
        return s;
      }

      it('with background cleanup disabled, ReturnExpiredIfNotCleanedUp keeps returning expired values, however long and however many accesses', async () => {
        const clock = new ManualClock(0);
        const t = await open(clock);
        const s = await expiredKeys(t, clock, KINDS[0]!, bare(builder().returnExpiredIfNotCleanedUp()), 50);
        t.key('live');
        for (let i = 0; i < 200; i++) await s.write(i);
        clock.set(1_000_000);
        for (let round = 0; round < 2; round++) {
          for (let i = 0; i < 50; i++) {
            t.key(`old-${i}`);
            expect(await s.read(), `old-${i}, round ${round}`).toBe(i);
          }
        }
        expect(await t.count('c')).toBe(51);
      });

      for (const k of KINDS) {
        it(`default background cleanup removes expired ${k.kind} state of other keys as the state is accessed`, async () => {
          const clock = new ManualClock(0);
          const t = await open(clock);
          const s = await expiredKeys(t, clock, k, builder().build(), 50);
          t.key('live');
          for (let i = 0; i < 30; i++) await s.read();
          await s.write(1);
          expect(await t.count('c')).toBe(1);
        });
      }

      it('incremental cleanup checks cleanupSize entries per access and gets round the whole state', async () => {
        const clock = new ManualClock(0);
        const t = await open(clock);
        const s = await expiredKeys(t, clock, KINDS[0]!, bare(builder().returnExpiredIfNotCleanedUp().cleanupIncrementally(10, false)), 100);
        if (t.kb.pruneEntries === undefined) return; // no incremental cleanup on this backend
        t.key('live');
        await s.write(1);
        expect(await t.count('c')).toBeGreaterThanOrEqual(90);
        for (let i = 0; i < 12; i++) await s.read();
        expect(await t.count('c')).toBe(1);
        t.key('old-3');
        expect(await s.read(), 'cleaned up, so no longer returned').toBeUndefined();
      });

      it('runCleanupForEveryRecord advances the cursor per record without any state access; without it records do nothing', async () => {
        for (const perRecord of [true, false]) {
          const clock = new ManualClock(0);
          const t = await open(clock);
          await expiredKeys(t, clock, KINDS[0]!, bare(builder().cleanupIncrementally(10, perRecord)), 100);
          if (t.kb.pruneEntries === undefined) return;
          for (let i = 0; i < 12; i++) {
            t.key(`record-${i}`);
            await t.store.onRecord();
          }
          expect(await t.count('c'), `runCleanupForEveryRecord=${perRecord}`).toBe(perRecord ? 0 : 100);
        }
      });

      it('incremental cleanup drops expired list elements and map entries, keeping the live ones', async () => {
        const clock = new ManualClock(0);
        const t = await open(clock);
        const ttl = bare(builder().returnExpiredIfNotCleanedUp().cleanupIncrementally(100, true));
        const l = t.store.getListState(new ListStateDescriptor<string>('l').enableTimeToLive(ttl));
        const m = t.store.getMapState(new MapStateDescriptor<string, number>('m').enableTimeToLive(ttl));
        for (let i = 0; i < 20; i++) {
          t.key(`k${i}`);
          await l.add('old');
          await m.put('old', 0);
        }
        clock.set(50);
        for (let i = 0; i < 20; i += 2) {
          t.key(`k${i}`);
          await l.add('new');
          await m.put('new', 1);
        }
        clock.set(100);
        t.key('record');
        await t.store.onRecord();
        if (t.kb.pruneEntries === undefined) return;
        expect(await t.count('l')).toBe(10);
        expect(await t.count('m')).toBe(10);
        for (let i = 0; i < 20; i += 2) {
          t.key(`k${i}`);
          expect(await l.get()).toEqual(['new']);
          expect(await collect(m.entries())).toEqual([['new', 1]]);
        }
      });
    });

    describe('in a job (StreamExecutionEnvironment with a ManualClock)', () => {
      /**
       * Runs `count` records with distinct keys `k0, k1, …` through a keyed function that
       * advances the clock by 1 ms per record and writes a TTL'd value for the records
       * `touches` selects; returns the number of keys with state, sampled every 250 records.
       */
      async function distinctKeysJob(ttl: StateTtlConfig, count: number, touches: (i: number) => boolean): Promise<number[]> {
        const clock = new ManualClock(0);
        let kb: KeyedStateBackend | undefined;
        const spy: StateBackend = {
          name: factory.name,
          createKeyedStateBackend: async (o) => (kb = await factory.createKeyedStateBackend({ ...o, jobId: `${jobId}-${o.jobId}` })),
        };
        const liveKeys = async () => {
          if (kb!.nativeTtlCleanup) await kb!.flush?.();
          return (await collect(kb!.keys('last-seen', ''))).length;
        };
        class LastSeen extends KeyedProcessFunction<string, number, number> {
          seen!: ValueState<number>;
          override open(ctx: RuntimeContext) {
            this.seen = ctx.getState(new ValueStateDescriptor<number>('last-seen').enableTimeToLive(ttl));
          }
          async processElement(i: number, _ctx: KeyedProcessContext<string>, out: Collector<number>) {
            clock.advance(1);
            if (touches(i)) {
              await this.seen.value();
              await this.seen.update(i);
            }
            if ((i + 1) % 250 === 0) out.collect(await liveKeys());
          }
        }
        return StreamExecutionEnvironment.getExecutionEnvironment()
          .setParallelism(1)
          .setClock(clock)
          .setStateBackend(spy)
          .fromGenerator((i) => i, { count })
          .keyBy((i) => `k${i}`)
          .process(new LastSeen())
          .executeAndCollect(`ttl-distinct-keys-${jobCounter}`);
      }

      it('state with TTL stays bounded under a stream of distinct keys with the default background cleanup; without cleanup it grows with every key', async () => {
        const bounded = await distinctKeysJob(builder().build(), 10_000, () => true);
        expect(bounded).toHaveLength(40);
        // TTL 100 ms at 1 record/ms: ~100 live keys, plus what the cursor has not reached yet.
        expect(Math.max(...bounded)).toBeLessThanOrEqual(250);
        const unbounded = await distinctKeysJob(bare(), 10_000, () => true);
        expect(unbounded.at(-1)).toBe(10_000);
      });

      it('runCleanupForEveryRecord cleans up while records stream by without touching the state', async () => {
        const touchFirst = (i: number) => i < 1000;
        const perRecord = await distinctKeysJob(bare(builder().cleanupIncrementally(5, true)), 6000, touchFirst);
        const perAccess = await distinctKeysJob(bare(builder().cleanupIncrementally(5, false)), 6000, touchFirst);
        const probe = await open(new ManualClock(0));
        if (probe.kb.pruneEntries === undefined) return;
        // Per access only: the keys still live when the state was last touched stay forever.
        expect(perAccess.at(-1)).toBeGreaterThanOrEqual(90);
        expect(perRecord.at(-1)).toBe(0);
      });
    });

    describe('snapshots and restore', () => {
      for (const k of KINDS) {
        it(`full-snapshot cleanup leaves expired ${k.kind} state out of the snapshot and keeps the working state`, async () => {
          const clock = new ManualClock(0);
          const t = await open(clock);
          const cleaned = k.register(t.store, 'cleaned', bare(builder().returnExpiredIfNotCleanedUp().cleanupFullSnapshot()));
          const kept = k.register(t.store, 'kept', bare(builder().returnExpiredIfNotCleanedUp()));
          for (const s of [cleaned, kept]) {
            t.key('old');
            await s.write(1);
          }
          clock.set(50);
          for (const s of [cleaned, kept]) {
            t.key('new');
            await s.write(2);
          }
          clock.set(100);
          const entries = entriesOf(await t.kb.snapshot());
          expect([...entries.keys()].sort()).toEqual(['cleaned/new', 'kept/new', 'kept/old']);
          t.key('old');
          expect(await cleaned.read(), 'the working state still has it').toEqual(k.one(1));
        });
      }

      it('full-snapshot cleanup filters list elements and map entries one by one', async () => {
        const clock = new ManualClock(0);
        const t = await open(clock);
        const ttl = bare(builder().cleanupFullSnapshot());
        const l = t.store.getListState(new ListStateDescriptor<string>('l').enableTimeToLive(ttl));
        const m = t.store.getMapState(new MapStateDescriptor<string, number>('m').enableTimeToLive(ttl));
        t.key('k');
        await l.add('old');
        await m.put('old', 0);
        clock.set(50);
        await l.add('new');
        await m.put('new', 1);
        clock.set(100);
        const snapshot = await t.kb.snapshot();
        const r = await restored(snapshot, new ManualClock(100));
        const rl = r.store.getListState(new ListStateDescriptor<string>('l').enableTimeToLive(bare(builder().returnExpiredIfNotCleanedUp())));
        const rm = r.store.getMapState(new MapStateDescriptor<string, number>('m').enableTimeToLive(bare(builder().returnExpiredIfNotCleanedUp())));
        r.key('k');
        expect(await rl.get()).toEqual(['new']);
        expect(await collect(rm.entries())).toEqual([['new', 1]]);
      });

      it('snapshots describe TTL in StateMetaInfo, and restore keeps the timestamps (restored state expires on its original schedule)', async () => {
        const clock = new ManualClock(0);
        const t = await open(clock);
        const ttl = bare();
        const register = (store: KeyedStateStore) => KINDS.map((k) => k.register(store, `s-${k.kind}`, ttl));
        const before = register(t.store);
        t.key('k');
        for (const s of before) await s.write(1);
        clock.set(60);
        const snapshot = await t.kb.snapshot();
        expect(snapshot.states.map((s) => s.ttl)).toEqual(KINDS.map(() => ({ ttlMs: TTL })));

        const later = new ManualClock(60);
        const r = await restored(snapshot, later);
        expect(r.kb.states().map((s) => s.ttl)).toEqual(KINDS.map(() => ({ ttlMs: TTL })));
        const after = register(r.store);
        r.key('k');
        later.set(99);
        for (const [i, s] of after.entries()) expect(await s.read(), KINDS[i]!.kind).toEqual(KINDS[i]!.one(1));
        later.set(100);
        for (const [i, s] of after.entries()) expect(await s.read(), KINDS[i]!.kind).toBeUndefined();
      });

      it('a timestamp renewed by OnReadAndWrite is what the snapshot keeps', async () => {
        const clock = new ManualClock(0);
        const t = await open(clock);
        const ttl = bare(builder().updateTtlOnReadAndWrite());
        const v = t.store.getState(new ValueStateDescriptor<number>('v').enableTimeToLive(ttl));
        t.key('k');
        await v.update(7);
        clock.set(90);
        expect(await v.value()).toBe(7);
        const r = await restored(await t.kb.snapshot(), new ManualClock(180));
        const rv = r.store.getState(new ValueStateDescriptor<number>('v').enableTimeToLive(ttl));
        r.key('k');
        expect(await rv.value()).toBe(7);
      });

      it('the TTL duration may change across a restore: the new TTL applies to the stored timestamps', async () => {
        const clock = new ManualClock(0);
        const t = await open(clock);
        t.key('k');
        await t.store.getState(new ValueStateDescriptor<number>('v').enableTimeToLive(bare())).update(1);
        const r = await restored(await t.kb.snapshot(), new ManualClock(150));
        const rv = r.store.getState(new ValueStateDescriptor<number>('v').enableTimeToLive(bare(StateTtlConfig.newBuilder(200))));
        r.key('k');
        expect(await rv.value()).toBe(1);
      });

      it('TTL state restores across backends: into and from the reference HashMapStateBackend', async () => {
        const clock = new ManualClock(0);
        const ttl = bare();
        for (const [from, to] of [
          [factory, new HashMapStateBackend()],
          [new HashMapStateBackend(), factory],
        ] as const) {
          const t = await open(clock, from);
          t.key('k');
          await t.store.getListState(new ListStateDescriptor<number>('l').enableTimeToLive(ttl)).add(1);
          const later = new ManualClock(99);
          const r = await restored(await t.kb.snapshot(), later, to);
          const rl = r.store.getListState(new ListStateDescriptor<number>('l').enableTimeToLive(ttl));
          r.key('k');
          expect(await rl.get()).toEqual([1]);
          later.set(100);
          expect(await rl.get()).toEqual([]);
        }
      });

      for (const [written, registered] of [
        ['without', 'with'],
        ['with', 'without'],
      ] as const) {
        it(`registering a state ${registered} TTL that was restored ${written} TTL fails with SNAPSHOT_INCOMPATIBLE naming operator and state, for every kind`, async () => {
          for (const k of KINDS) {
            const clock = new ManualClock(0);
            const t = await open(clock);
            const s = k.register(t.store, `mismatch-${k.kind}`, written === 'with' ? bare() : undefined);
            t.key('k');
            await s.write(1);
            const r = await restored(await t.kb.snapshot(), clock);
            const e = await failureOf(() => k.register(r.store, `mismatch-${k.kind}`, registered === 'with' ? bare() : undefined));
            expect(e, k.kind).toBeInstanceOf(EddyError);
            expect((e as EddyError).code).toBe('SNAPSHOT_INCOMPATIBLE');
            expect((e as EddyError).message).toContain('[operator:Ttl (1/1)]');
            expect((e as EddyError).message).toContain(`[state:mismatch-${k.kind}]`);
          }
        });
      }
    });
  });
}
