/**
 * Snapshots of the SQLite backend in the canonical format (`snapshot-format.ts`), and
 * restores from any backend's snapshots.
 *
 * Rows already hold canonical value bytes, so a snapshot copies them into key-group byte
 * strings without decoding (only a TTL snapshot filter decodes, to test each element).
 * A full snapshot walks each state's rows in primary-key order (key group, key,
 * namespace, row) in a {@link SnapshotSource} (the frozen copy of the capture) and gives
 * other work a turn between slices (`state/slices.ts`); a delta is captured and encoded
 * by `delta-capture.ts` with the entry writer of this file.
 */
import { ByteWriter } from '../../format/bytes.ts';
import type { Slices } from '../../state/slices.ts';
import { deserializeValue, serializeValue } from '../../format/value-codec.ts';
import { canonicalKeyBytes } from '../../format/key-bytes.ts';
import { readKeyGroup, type StorageShape } from '../../format/snapshot-format.ts';
import type { SnapshotSource } from './frozen-copy.ts';
import type { Row } from './schema.ts';

/** What encoding needs to know of a state: its number, shape and, for full-snapshot TTL cleanup, a drop predicate. */
export interface EncodedState {
  readonly id: number;
  readonly shape: StorageShape;
  readonly drop?: (stored: unknown) => boolean;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The rows of an entry that a drop predicate keeps (all of them without one). */
function keptRows(rows: Row[], drop: ((stored: unknown) => boolean) | undefined): Row[] {
  return drop === undefined ? rows : rows.filter(([, v]) => !drop(deserializeValue(v)));
}

/** Appends one entry (state, key, namespace and its rows) in the canonical layout; false if nothing was kept. */
export function writeEntry(w: ByteWriter, stateIndex: number, state: EncodedState, k: Uint8Array, ns: string, all: Row[]): boolean {
  const rows = keptRows(all, state.drop);
  if (rows.length === 0) return false;
  w.varint(stateIndex);
  w.lenBytes(k);
  w.string(ns);
  if (state.shape === 'value') {
    w.bytes(rows[0]![1]);
    return true;
  }
  w.varint(rows.length);
  for (const [uk, v] of rows) {
    if (state.shape === 'map') w.lenBytes(uk as Uint8Array);
    w.bytes(v);
  }
  return true;
}

/** Encodes every row of the given states within a key-group range: key group → entries. */
export async function encodeFull(
  src: SnapshotSource,
  states: readonly EncodedState[],
  firstKg: number,
  lastKg: number,
  slices: Slices,
): Promise<Map<number, Uint8Array>> {
  const writers = new Map<number, ByteWriter>();
  const writerOf = (kg: number) => {
    let w = writers.get(kg);
    if (w === undefined) writers.set(kg, (w = new ByteWriter(4096)));
    return w;
  };
  for (let stateIndex = 0; stateIndex < states.length; stateIndex++) {
    const state = states[stateIndex]!;
    let group: { kg: number; k: Uint8Array; ns: string; rows: Row[] } | undefined;
    const close = () => {
      if (group !== undefined) writeEntry(writerOf(group.kg), stateIndex, state, group.k, group.ns, group.rows);
    };
    let n = 0;
    for (const [kg, k, ns, uk, v] of src.stateRows(state.id, firstKg, lastKg)) {
      if (group === undefined || group.kg !== kg || group.ns !== ns || !sameBytes(group.k, k)) {
        close();
        group = { kg, k, ns, rows: [] };
      }
      group.rows.push([uk, v]);
      // The source's statement stays open across the pause: only this snapshot reads its copy.
      if ((++n & 1023) === 0 && slices.due()) await slices.pause();
    }
    close();
  }
  return finishAll(writers);
}

/** The bytes of every key group's writer that holds anything. */
export function finishAll(writers: ReadonlyMap<number, { readonly length: number; finish(): Uint8Array }>): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  for (const [kg, w] of writers) if (w.length > 0) out.set(kg, w.finish());
  return out;
}

/** Where restored rows go: a state's number and shape per snapshot state index, and the row writer. */
export interface RestoreTarget {
  readonly states: ReadonlyArray<{ id: number; shape: StorageShape }>;
  inRange(kg: number): boolean;
  put(st: number, kg: number, k: Uint8Array, ns: string, uk: number | Uint8Array, v: Uint8Array): void;
}

/** Loads the key groups of one (full) snapshot that fall in range. */
export function restoreKeyGroups(keyGroups: ReadonlyMap<number, Uint8Array>, metas: Parameters<typeof readKeyGroup>[1], target: RestoreTarget): void {
  for (const [kg, bytes] of keyGroups) {
    if (!target.inRange(kg)) continue;
    for (const entry of readKeyGroup(bytes, metas)) {
      const { id } = target.states[entry.stateIndex]!;
      const k = canonicalKeyBytes(entry.key);
      if (entry.shape === 'value') target.put(id, kg, k, entry.namespace, 0, serializeValue(entry.value));
      else if (entry.shape === 'list') entry.values.forEach((v, i) => target.put(id, kg, k, entry.namespace, i, serializeValue(v)));
      else for (const [uk, v] of entry.entries) target.put(id, kg, k, entry.namespace, canonicalKeyBytes(uk), serializeValue(v));
    }
  }
}
