/**
 * Cleanup: background, incremental (per access and per record), and none.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/api/clock.ts';
import { ListStateDescriptor, MapStateDescriptor } from '../../../src/api/descriptors.ts';
import type { StateTtlConfig } from '../../../src/api/ttl.ts';
import { collect } from '../harness.ts';
import { KINDS, builder, bare, NO_CURSOR, type Handle, type Kind, type TtlSubtask, type TtlSuite } from './kinds.ts';

/** Declares the cases of this behaviour; see `runTtlSuite`. */
export function cleanupCases({ open }: TtlSuite): void {
  describe('cleanup', () => {
    /** `n` keys written at t=0 into state `name`; the clock is then past their TTL. */
    async function expiredKeys(t: TtlSubtask, clock: ManualClock, k: Kind, ttl: StateTtlConfig, n: number): Promise<Handle> {
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

    it('incremental cleanup checks cleanupSize entries per access and gets round the whole state', async ({ skip }) => {
      const clock = new ManualClock(0);
      const t = await open(clock);
      const s = await expiredKeys(t, clock, KINDS[0]!, bare(builder().returnExpiredIfNotCleanedUp().cleanupIncrementally(10, false)), 100);
      skip(t.kb.pruneEntries === undefined, NO_CURSOR);
      t.key('live');
      await s.write(1);
      expect(await t.count('c')).toBeGreaterThanOrEqual(90);
      for (let i = 0; i < 12; i++) await s.read();
      expect(await t.count('c')).toBe(1);
      t.key('old-3');
      expect(await s.read(), 'cleaned up, so no longer returned').toBeUndefined();
    });

    it('runCleanupForEveryRecord advances the cursor per record without any state access; without it records do nothing', async ({ skip }) => {
      for (const perRecord of [true, false]) {
        const clock = new ManualClock(0);
        const t = await open(clock);
        await expiredKeys(t, clock, KINDS[0]!, bare(builder().cleanupIncrementally(10, perRecord)), 100);
        skip(t.kb.pruneEntries === undefined, NO_CURSOR);
        for (let i = 0; i < 12; i++) {
          t.key(`record-${i}`);
          await t.store.onRecord();
        }
        expect(await t.count('c'), `runCleanupForEveryRecord=${perRecord}`).toBe(perRecord ? 0 : 100);
      }
    });

    it('incremental cleanup drops expired list elements and map entries, keeping the live ones', async ({ skip }) => {
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
      skip(t.kb.pruneEntries === undefined, NO_CURSOR);
      expect(await t.count('l')).toBe(10);
      expect(await t.count('m')).toBe(10);
      for (let i = 0; i < 20; i += 2) {
        t.key(`k${i}`);
        expect(await l.get()).toEqual(['new']);
        expect(await collect(m.entries())).toEqual([['new', 1]]);
      }
    });
  });
}
