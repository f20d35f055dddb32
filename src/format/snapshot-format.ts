/**
 * The canonical, backend-independent form of keyed state: per key group, one byte
 * string holding every entry of every state in that group. Every backend writes this
 * form and reads it back, so a snapshot of one backend restores into any other, and a
 * key-group range of it restores at another parallelism.
 *
 * Entry layout (all integers unsigned LEB128 varints):
 *   stateIndex · keyLength · canonicalKeyBytes · namespace (string) · payload
 * where payload is, by storage shape,
 *   value: one encoded value
 *   list:  count · count encoded values
 *   map:   count · count × (userKeyLength · canonicalUserKeyBytes · encoded value)
 */
import type { StateKind } from '../api/descriptors.ts';
import { SnapshotError } from '../api/errors.ts';
import { ByteReader, ByteWriter } from './bytes.ts';
import { decodeValue, encodeValue } from './value-codec.ts';
import { canonicalKeyBytes, keyFromCanonicalBytes, readCanonicalKey, type Key } from './key-bytes.ts';

/** Version of the key-group entry layout above. */
export const KEYED_SNAPSHOT_FORMAT_VERSION = 1;

/** The shape a state kind is stored as. */
export type StorageShape = 'value' | 'list' | 'map';

/** Maps the five state kinds onto the three stored shapes. */
export function storageShapeOf(kind: StateKind): StorageShape {
  return kind === 'list' ? 'list' : kind === 'map' ? 'map' : 'value';
}

/**
 * How a state with time-to-live is stored: every stored value (of a list, every element;
 * of a map, every value) is the pair `[userValue, lastAccessTimestamp]` (see
 * `src/state/ttl-tables.ts`). The pairs go through the value codec like any value.
 */
export interface TtlMetaInfo {
  /** The TTL when written; informative, a restore may change it (timestamps are stored, not deadlines). */
  readonly ttlMs: number;
}

/** Name and kind of a state in a snapshot. */
export interface StateMetaInfo {
  readonly name: string;
  readonly kind: StateKind;
  /** Present only when the state's values are stored with TTL timestamps. */
  readonly ttl?: TtlMetaInfo;
}

/** A snapshot of one operator subtask's keyed state, in canonical form. */
export interface KeyedStateSnapshot {
  readonly formatVersion: number;
  readonly maxParallelism: number;
  readonly states: readonly StateMetaInfo[];
  /** Key group → entries; key groups without state are absent. */
  readonly keyGroups: ReadonlyMap<number, Uint8Array>;
  /**
   * Present on an incremental snapshot: `keyGroups` then hold only the entries written
   * since the completed checkpoint `baseCheckpointId` (or later), and `removed` the
   * (state, key, namespace) entries removed since then, in the same layout without payload.
   */
  readonly incremental?: { readonly baseCheckpointId: number; readonly removed: ReadonlyMap<number, Uint8Array> };
}

/** Writes removed-entry markers: `stateIndex · keyLength · keyBytes · namespace`. */
export class RemovedEntryWriter {
  private readonly w = new ByteWriter();
  get length(): number {
    return this.w.length;
  }
  add(stateIndex: number, keyBytes: Uint8Array, namespace: string): void {
    this.w.varint(stateIndex);
    this.w.lenBytes(keyBytes);
    this.w.string(namespace);
  }
  finish(): Uint8Array {
    return this.w.finish();
  }
}

/** Reads removed-entry markers. */
export function* readRemovedEntries(bytes: Uint8Array): Generator<{ stateIndex: number; keyBytes: Uint8Array; namespace: string }> {
  const r = new ByteReader(bytes);
  while (!r.done) yield { stateIndex: r.varint(), keyBytes: r.lenBytes(), namespace: r.string() };
}

/** One decoded entry of a key group. */
export type SnapshotEntry =
  | { stateIndex: number; key: Key; namespace: string; shape: 'value'; value: unknown }
  | { stateIndex: number; key: Key; namespace: string; shape: 'list'; values: unknown[] }
  | { stateIndex: number; key: Key; namespace: string; shape: 'map'; entries: Array<[Key, unknown]> };

/** Accumulates the entries of one key group. */
export class KeyGroupWriter {
  private readonly w = new ByteWriter();

  /** Number of bytes written so far. */
  get length(): number {
    return this.w.length;
  }

  private head(stateIndex: number, keyBytes: Uint8Array, namespace: string): void {
    this.w.varint(stateIndex);
    this.w.lenBytes(keyBytes);
    this.w.string(namespace);
  }

  /** Writes a value entry; `keyBytes` are the canonical bytes of the key. */
  value(stateIndex: number, keyBytes: Uint8Array, namespace: string, value: unknown): void {
    this.head(stateIndex, keyBytes, namespace);
    encodeValue(this.w, value);
  }

  /** Writes a list entry. */
  list(stateIndex: number, keyBytes: Uint8Array, namespace: string, values: readonly unknown[]): void {
    this.head(stateIndex, keyBytes, namespace);
    this.w.varint(values.length);
    for (const v of values) encodeValue(this.w, v);
  }

  /** Writes a map entry from user keys and values. */
  map(stateIndex: number, keyBytes: Uint8Array, namespace: string, entries: Iterable<readonly [Key, unknown]>, size: number): void {
    this.head(stateIndex, keyBytes, namespace);
    this.w.varint(size);
    let n = 0;
    for (const [k, v] of entries) {
      this.w.lenBytes(canonicalKeyBytes(k));
      encodeValue(this.w, v);
      n++;
    }
    if (n !== size)
      throw new SnapshotError('SNAPSHOT_CORRUPT', `a map changed size while it was written (${n} entries, ${size} announced)`, { component: 'snapshot' });
  }

  finish(): Uint8Array {
    return this.w.finish();
  }
}

/** Receives the entries of a key group from {@link visitKeyGroup}. */
export interface KeyGroupVisitor {
  value(stateIndex: number, key: Key, namespace: string, value: unknown): void;
  list(stateIndex: number, key: Key, namespace: string, values: unknown[]): void;
  map(stateIndex: number, key: Key, namespace: string, entries: Array<[Key, unknown]>): void;
}

/**
 * Decodes the entries of one key group into `visitor`, in the order they were written:
 * what {@link readKeyGroup} yields, without an object per entry or a sub-array per key
 * (the restore of a large state spends its time here).
 */
export function visitKeyGroup(bytes: Uint8Array, states: readonly StateMetaInfo[], visitor: KeyGroupVisitor): void {
  const r = new ByteReader(bytes);
  const shapes = states.map((s) => storageShapeOf(s.kind));
  while (!r.done) {
    const stateIndex = r.varint();
    const shape = shapes[stateIndex];
    if (shape === undefined)
      throw new SnapshotError('SNAPSHOT_CORRUPT', `a key-group entry refers to state #${stateIndex}, but the snapshot lists ${states.length} states`, {
        component: 'snapshot',
      });
    const key = readCanonicalKey(r, r.varint());
    const namespace = r.string();
    if (shape === 'value') visitor.value(stateIndex, key, namespace, decodeValue(r));
    else if (shape === 'list') {
      const n = r.varint();
      const values = new Array<unknown>(n);
      for (let i = 0; i < n; i++) values[i] = decodeValue(r);
      visitor.list(stateIndex, key, namespace, values);
    } else {
      const n = r.varint();
      const entries = new Array<[Key, unknown]>(n);
      for (let i = 0; i < n; i++) entries[i] = [readCanonicalKey(r, r.varint()), decodeValue(r)];
      visitor.map(stateIndex, key, namespace, entries);
    }
  }
}

/** Decodes the entries of one key group, in the order they were written. */
export function* readKeyGroup(bytes: Uint8Array, states: readonly StateMetaInfo[]): Generator<SnapshotEntry> {
  const r = new ByteReader(bytes);
  while (!r.done) {
    const stateIndex = r.varint();
    const meta = states[stateIndex];
    if (!meta)
      throw new SnapshotError('SNAPSHOT_CORRUPT', `a key-group entry refers to state #${stateIndex}, but the snapshot lists ${states.length} states`, {
        component: 'snapshot',
      });
    const key = keyFromCanonicalBytes(r.lenBytes());
    const namespace = r.string();
    const shape = storageShapeOf(meta.kind);
    if (shape === 'value') {
      yield { stateIndex, key, namespace, shape, value: decodeValue(r) };
    } else if (shape === 'list') {
      const n = r.varint();
      const values = new Array<unknown>(n);
      for (let i = 0; i < n; i++) values[i] = decodeValue(r);
      yield { stateIndex, key, namespace, shape, values };
    } else {
      const n = r.varint();
      const entries = new Array<[Key, unknown]>(n);
      for (let i = 0; i < n; i++) entries[i] = [keyFromCanonicalBytes(r.lenBytes()), decodeValue(r)];
      yield { stateIndex, key, namespace, shape, entries };
    }
  }
}
