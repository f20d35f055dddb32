/**
 * Full snapshots of the Durable Object backend in the canonical format
 * (`snapshot-format.ts`), so that a savepoint taken in workerd restores into every other
 * backend and back, at any parallelism; from its rows (`format/row-snapshots.ts`: rows
 * already hold canonical value bytes, so they are copied without decoding).
 */
import { KeyGroupRowWriter, type RowState } from '../../format/row-snapshots.ts';
import type { Tables } from './schema.ts';

/** What encoding needs to know of a state: its number, shape and, for full-snapshot TTL cleanup, a drop predicate. */
export type EncodedState = RowState;

/**
 * Encodes every row of the given states within a key-group range: key group → entries.
 * Synchronous, so that it runs inside the `snapshot()` call: the object is single-threaded,
 * and no write can land between the capture and the encoding.
 */
export function encodeFull(tables: Tables, states: readonly EncodedState[], firstKg: number, lastKg: number): Map<number, Uint8Array> {
  const out = new KeyGroupRowWriter(states);
  for (let stateIndex = 0; stateIndex < states.length; stateIndex++)
    for (const [kg, k, ns, uk, v] of tables.stateRows(states[stateIndex]!.id, firstKg, lastKg)) out.add(stateIndex, kg, k, ns, uk, v);
  return out.finish();
}
