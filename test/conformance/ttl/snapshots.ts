/**
 * TTL through snapshots: full-snapshot cleanup, timestamps kept by restore, TTL mismatches refused.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/api/clock.ts';
import { ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor } from '../../../src/api/descriptors.ts';
import { EddyError } from '../../../src/api/errors.ts';
import { StateTtlConfig } from '../../../src/api/ttl.ts';
import { HashMapStateBackend } from '../../../src/backends/memory.ts';
import type { KeyedStateStore } from '../../../src/state/keyed-state-store.ts';
import { collect, failureOf } from '../harness.ts';
import { TTL, KINDS, builder, bare, entriesOf, type TtlSuite } from './kinds.ts';

/** Declares the cases of this behaviour; see `runTtlSuite`. */
export function snapshotCases(suite: TtlSuite): void {
  const { open, restored } = suite;
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
        [suite.backend, new HashMapStateBackend()],
        [new HashMapStateBackend(), suite.backend],
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
}
