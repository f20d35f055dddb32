/**
 * Full snapshots of the SQLite backend in the canonical format (`snapshot-format.ts`),
 * from its rows (`format/row-snapshots.ts`: rows already hold canonical value bytes, so
 * they are copied into key-group byte strings without decoding). A full snapshot walks
 * each state's rows in primary-key order (key group, key, namespace, row) in a
 * {@link SnapshotSource} (the frozen copy of the capture) and gives other work a turn
 * between slices (`state/slices.ts`); a delta is captured and encoded by
 * `delta-capture.ts`.
 */
import { KeyGroupRowWriter, type RowState } from '../../format/row-snapshots.ts';
import type { Slices } from '../../state/slices.ts';
import type { SnapshotSource } from './frozen-copy.ts';

/** What encoding needs to know of a state: its number, shape and, for full-snapshot TTL cleanup, a drop predicate. */
export type EncodedState = RowState;

/** Encodes every row of the given states within a key-group range: key group → entries. */
export async function encodeFull(
  src: SnapshotSource,
  states: readonly EncodedState[],
  firstKg: number,
  lastKg: number,
  slices: Slices,
): Promise<Map<number, Uint8Array>> {
  const out = new KeyGroupRowWriter(states);
  for (let stateIndex = 0; stateIndex < states.length; stateIndex++) {
    let n = 0;
    for (const [kg, k, ns, uk, v] of src.stateRows(states[stateIndex]!.id, firstKg, lastKg)) {
      out.add(stateIndex, kg, k, ns, uk, v);
      // The source's statement stays open across the pause: only this snapshot reads its copy.
      if ((++n & 1023) === 0 && slices.due()) await slices.pause();
    }
  }
  return out.finish();
}
