/**
 * Expiry on the read path alone, for every update type × visibility × state kind.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/api/clock.ts';
import { StateVisibility, UpdateType } from '../../../src/api/ttl.ts';
import { KINDS, builder, bare, type TtlSuite } from './kinds.ts';

/** Declares the cases of this behaviour; see `runTtlSuite`. */
export function expiryMatrixCases({ open }: TtlSuite): void {
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
}
