/**
 * Change tracking for incremental snapshots: once a delta was asked for, every write
 * marks its (state, namespace, key) with the current epoch; a snapshot closes an epoch;
 * when the checkpoint of a snapshot completes, marks up to its epoch are dropped and the
 * snapshot becomes the base of the next delta. A delta then reads the marked entries
 * back from IndexedDB: present ones are entries, absent ones removed markers.
 */
import type { KeyId } from '../../format/key-ids.ts';
import { DeltaEpochs } from '../../state/delta-epochs.ts';
import type { Coord, Table } from './cache.ts';

/** Marks of one epoch-tracked backend. */
export class ChangeTracker extends DeltaEpochs {
  /** table → namespace → key id → where, and the epoch of its last write. */
  readonly marks = new Map<Table, Map<string, Map<KeyId, { at: Coord; epoch: number }>>>();

  mark(table: Table, ns: string, at: Coord): void {
    if (!this.tracking) return;
    let byNs = this.marks.get(table);
    if (!byNs) this.marks.set(table, (byNs = new Map()));
    let byKey = byNs.get(ns);
    if (!byKey) byNs.set(ns, (byKey = new Map()));
    byKey.set(at.kid, { at, epoch: this.epoch });
  }

  /** A checkpoint completed: forget the marks its snapshot covered. */
  override complete(checkpointId: number): number | undefined {
    const epoch = super.complete(checkpointId);
    if (epoch === undefined) return undefined;
    for (const [table, byNs] of this.marks) {
      for (const [ns, byKey] of byNs) {
        for (const [kid, m] of byKey) if (m.epoch <= epoch) byKey.delete(kid);
        if (byKey.size === 0) byNs.delete(ns);
      }
      if (byNs.size === 0) this.marks.delete(table);
    }
    return epoch;
  }
}
