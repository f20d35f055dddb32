/**
 * Rescaling: snapshots split and merged by key-group range.
 */
import { describe, expect, it } from 'vitest';
import type { Key } from '../../../src/format/key-bytes.ts';
import type { KeyedStateSnapshot } from '../../../src/format/snapshot-format.ts';
import { collect, sortKeys } from '../harness.ts';
import { fixtureCells, FX, writeFixture, verifyFixture, inRange } from './fixture.ts';
import type { StateSuite } from './context.ts';

/** Declares the cases of this behaviour; see `runStateBackendSuite`. */
export function rescalingCases({ open, N_FIXTURE }: StateSuite): void {
  describe('rescaling by key-group range', () => {
    it('a full snapshot restored into subtasks 0..2 of 3 gives each exactly the keys of its key groups, and together all of them', async () => {
      const cells = fixtureCells(N_FIXTURE);
      const full = await open();
      await writeFixture(full, cells);
      const snapshot = await full.kb.snapshot();
      const seen: Key[] = [];
      for (let i = 0; i < 3; i++) {
        const part = await open({ operatorId: 'rescaled', parallelism: 3, subtaskIndex: i });
        await part.kb.restore([snapshot]);
        const mine = inRange(cells, part.kb.keyGroupRange);
        expect(mine.length).toBeGreaterThan(0);
        await verifyFixture(part, mine);
        seen.push(...(await collect(part.kb.keys(FX.value, ''))));
      }
      const expected = cells.filter((c) => c.namespace === '' && c.value !== undefined).map((c) => c.key);
      expect(sortKeys(seen)).toEqual(sortKeys(expected));
    });

    it('the snapshots of subtasks 0..2 of 3 restored into one subtask give it all the state', async () => {
      const cells = fixtureCells(N_FIXTURE);
      const snapshots: KeyedStateSnapshot[] = [];
      for (let i = 0; i < 3; i++) {
        const part = await open({ operatorId: 'scaled-in', parallelism: 3, subtaskIndex: i });
        await writeFixture(part, inRange(cells, part.kb.keyGroupRange));
        const snapshot = await part.kb.snapshot();
        for (const kg of snapshot.keyGroups.keys()) expect(part.kb.keyGroupRange.contains(kg)).toBe(true);
        snapshots.push(snapshot);
      }
      const whole = await open();
      await whole.kb.restore(snapshots);
      await verifyFixture(whole, cells);
    });
  });
}
