/**
 * The canonical snapshot layout (`snapshot-format.ts`) from and to rows, for backends that
 * store state as rows already holding canonical bytes (the SQLite and Durable Object
 * backends): one row per value, list element or map entry, keyed by (state, key group,
 * key bytes, namespace, row), whose value is the canonical encoding of the stored value
 * (`value-codec.ts`). A snapshot copies the bytes into key-group byte strings without
 * decoding them (only a TTL snapshot filter decodes, to test each element).
 */
import { ByteWriter } from './bytes.ts';
import { canonicalKeyBytes } from './key-bytes.ts';
import { readKeyGroup, type StateMetaInfo, type StorageShape } from './snapshot-format.ts';
import { deserializeValue, serializeValue } from './value-codec.ts';

/** A row of an entry: `uk` (0 for a value, the element's sequence number, or a map entry's user-key bytes) and the encoded value. */
export type EntryRow = readonly [uk: number | Uint8Array, v: Uint8Array];

/** What encoding needs to know of a state: its number, shape and, for full-snapshot TTL cleanup, a drop predicate. */
export interface RowState {
  readonly id: number;
  readonly shape: StorageShape;
  readonly drop?: (stored: unknown) => boolean;
}

/** Whether two byte strings are equal. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Appends one entry (state, key, namespace and the rows its drop predicate keeps) in the canonical layout; false if none was kept. */
export function writeRowEntry(w: ByteWriter, stateIndex: number, state: RowState, k: Uint8Array, ns: string, all: readonly EntryRow[]): boolean {
  const { drop } = state;
  const rows = drop === undefined ? all : all.filter(([, v]) => !drop(deserializeValue(v)));
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

/** The bytes of every key group's writer that holds anything. */
export function finishAll(writers: ReadonlyMap<number, { readonly length: number; finish(): Uint8Array }>): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  for (const [kg, w] of writers) if (w.length > 0) out.set(kg, w.finish());
  return out;
}

/**
 * Groups rows given in primary-key order (state, key group, key, namespace, row) into
 * entries, and writes them into one writer per key group: a full snapshot's key groups.
 */
export class KeyGroupRowWriter {
  private readonly writers = new Map<number, ByteWriter>();
  private entry: { stateIndex: number; kg: number; k: Uint8Array; ns: string; rows: EntryRow[] } | undefined;

  /** @param states the snapshot's states, by state index. */
  constructor(private readonly states: readonly RowState[]) {}

  /** Adds a row of the state at `stateIndex`. */
  add(stateIndex: number, kg: number, k: Uint8Array, ns: string, uk: number | Uint8Array, v: Uint8Array): void {
    const e = this.entry;
    if (e === undefined || e.stateIndex !== stateIndex || e.kg !== kg || e.ns !== ns || !sameBytes(e.k, k)) {
      this.close();
      this.entry = { stateIndex, kg, k, ns, rows: [[uk, v]] };
    } else e.rows.push([uk, v]);
  }

  /** Key group → its entries. */
  finish(): Map<number, Uint8Array> {
    this.close();
    return finishAll(this.writers);
  }

  private close(): void {
    const e = this.entry;
    if (e === undefined) return;
    this.entry = undefined;
    let w = this.writers.get(e.kg);
    if (w === undefined) this.writers.set(e.kg, (w = new ByteWriter(4096)));
    writeRowEntry(w, e.stateIndex, this.states[e.stateIndex]!, e.k, e.ns, e.rows);
  }
}

/** Where restored rows go: a state's number and shape per snapshot state index, and the row writer. */
export interface RestoreTarget {
  readonly states: ReadonlyArray<{ id: number; shape: StorageShape }>;
  inRange(kg: number): boolean;
  put(st: number, kg: number, k: Uint8Array, ns: string, uk: number | Uint8Array, v: Uint8Array): void;
}

/** Loads the key groups of one full snapshot that fall in range, as rows. */
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
