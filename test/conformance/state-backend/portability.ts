/**
 * The snapshot format is backend-independent: snapshots move to and from the reference HashMapStateBackend.
 */
import { describe, expect, it } from 'vitest';
import { ValueStateDescriptor } from '../../../src/api/descriptors.ts';
import { structuredValue, fixtureCells, writeFixture, verifyFixture, contentsOf } from './fixture.ts';
import type { StateSuite } from './context.ts';

/** Declares the cases of this behaviour; see `runStateBackendSuite`. */
export function portabilityCases({ open, openReference, N_FIXTURE }: StateSuite): void {
  describe('snapshot format is backend-independent', () => {
    it('its snapshot restores into the reference HashMapStateBackend with equal contents', async () => {
      const cells = fixtureCells(N_FIXTURE);
      const t = await open();
      await writeFixture(t, cells);
      t.key('structured');
      await t.store.getState(new ValueStateDescriptor<unknown>('structured')).update(structuredValue());
      const snapshot = await t.kb.snapshot();
      const reference = await openReference();
      await reference.kb.restore([snapshot]);
      await verifyFixture(reference, cells);
      reference.key('structured');
      expect(await reference.store.getState(new ValueStateDescriptor<unknown>('structured')).value()).toEqual(structuredValue());
      expect(contentsOf(await reference.kb.snapshot())).toEqual(contentsOf(snapshot));
    });

    it('it restores a snapshot of the reference HashMapStateBackend with equal contents', async () => {
      const cells = fixtureCells(N_FIXTURE);
      const reference = await openReference();
      await writeFixture(reference, cells);
      reference.key('structured');
      await reference.store.getState(new ValueStateDescriptor<unknown>('structured')).update(structuredValue());
      const snapshot = await reference.kb.snapshot();
      const t = await open();
      await t.kb.restore([snapshot]);
      await verifyFixture(t, cells);
      t.key('structured');
      expect(await t.store.getState(new ValueStateDescriptor<unknown>('structured')).value()).toEqual(structuredValue());
      expect(contentsOf(await t.kb.snapshot())).toEqual(contentsOf(snapshot));
    });
  });
}
