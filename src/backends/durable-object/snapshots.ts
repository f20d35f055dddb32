/**
 * Snapshots of the Durable Object backend in the canonical format (`snapshot-format.ts`),
 * so that a savepoint taken in workerd restores into every other backend and back, at any
 * parallelism. Rows already hold canonical value bytes: a snapshot copies them into
 * key-group byte strings without decoding (only a TTL snapshot filter decodes, to test
 * each element).
 */
import { ByteWriter } from '../../format/bytes.ts';
import { canonicalKeyBytes } from '../../format/key-bytes.ts';
import { readKeyGroup, type StateMetaInfo, type StorageShape } from '../../format/snapshot-format.ts';
import { deserializeValue, serializeValue } from '../../format/value-codec.ts';
import type { Row, Tables } from './schema.ts';

/** What encoding needs to know of a state: its number, shape and, for full-snapshot TTL cleanup, a drop predicate. */
export interface EncodedState {
  readonly id: number;
  readonly shape: StorageShape;
  readonly drop?: (stored: unknown) => boolean;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Appends one entry (state, key, namespace and its kept rows) in the canonical layout. */
function writeEntry(w: ByteWriter, stateIndex: number, state: EncodedState, k: Uint8Array, ns: string, all: Row[]): void {
  const rows = state.drop === undefined ? all : all.filter(([, v]) => !state.drop!(deserializeValue(v)));
  if (rows.length === 0) return;
  w.varint(stateIndex);
  w.lenBytes(k);
  w.string(ns);
  if (state.shape === 'value') {
    w.bytes(rows[0]![1]);
    return;
  }
  w.varint(rows.length);
  for (const [uk, v] of rows) {
    if (state.shape === 'map') w.lenBytes(uk as Uint8Array);
    w.bytes(v);
  }
}

/**
 * Encodes every row of the given states within a key-group range: key group → entries.
 * Synchronous, so that it runs inside the `snapshot()` call: the object is single-threaded,
 * and no write can land between the capture and the encoding.
 */
export function encodeFull(tables: Tables, states: readonly EncodedState[], firstKg: number, lastKg: number): Map<number, Uint8Array> {
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
    for (const [kg, k, ns, uk, v] of tables.stateRows(state.id, firstKg, lastKg)) {
      if (group === undefined || group.kg !== kg || group.ns !== ns || !sameBytes(group.k, k)) {
        close();
        group = { kg, k, ns, rows: [] };
      }
      group.rows.push([uk, v]);
    }
    close();
  }
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

/** Loads the key groups of one full snapshot that fall in range. */
export function restoreKeyGroups(keyGroups: ReadonlyMap<number, Uint8Array>, metas: readonly StateMetaInfo[], target: RestoreTarget): void {
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
