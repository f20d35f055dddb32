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
import { keyId, type KeyId } from './key-ids.ts';

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
 * `src/state/ttl-context.ts`). The pairs go through the value codec like any value.
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

/**
 * Decodes the entries of one key group straight into maps keyed by key id (the in-memory
 * backend's form): a value entry's id maps to its value, a list's to a fresh array, a
 * map's to a fresh `Map` of user-key ids. `mapFor` names the map of a (state, namespace)
 * and is asked once per run of entries of the same state and namespace (entries come
 * grouped that way). A restore of a large state spends its time here, so there is no
 * object per entry and no array of entries to build a map from: each entry is set
 * directly (measured: pairs then `new Map(pairs)` cost more than the map's growth).
 */
export function loadKeyGroup(
  bytes: Uint8Array,
  states: readonly StateMetaInfo[],
  mapFor: (stateIndex: number, namespace: string) => { set(id: KeyId, stored: unknown): unknown },
): void {
  const r = new ByteReader(bytes);
  const shapes = states.map((s) => storageShapeOf(s.kind));
  let runState = -1;
  let runNamespace = '';
  let map: { set(id: KeyId, stored: unknown): unknown } | undefined;
  while (!r.done) {
    const stateIndex = r.varint();
    const shape = shapes[stateIndex];
    if (shape === undefined)
      throw new SnapshotError('SNAPSHOT_CORRUPT', `a key-group entry refers to state #${stateIndex}, but the snapshot lists ${states.length} states`, {
        component: 'snapshot',
      });
    const id = keyId(readCanonicalKey(r, r.varint()));
    const namespace = r.string();
    if (map === undefined || stateIndex !== runState || namespace !== runNamespace) {
      map = mapFor(stateIndex, namespace);
      runState = stateIndex;
      runNamespace = namespace;
    }
    if (shape === 'value') map.set(id, decodeValue(r));
    else if (shape === 'list') {
      const n = r.varint();
      const values = new Array<unknown>(n);
      for (let i = 0; i < n; i++) values[i] = decodeValue(r);
      map.set(id, values);
    } else {
      const n = r.varint();
      const inner = new Map<KeyId, unknown>();
      for (let i = 0; i < n; i++) {
        const userId = keyId(readCanonicalKey(r, r.varint()));
        inner.set(userId, decodeValue(r));
      }
      map.set(id, inner);
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
