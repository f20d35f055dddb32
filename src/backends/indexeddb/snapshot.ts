/**
 * Between IndexedDB records and the canonical snapshot format
 * (`src/format/snapshot-format.ts`). Records already hold values in the canonical
 * value encoding, so a snapshot copies their bytes behind an entry head instead of
 * decoding and re-encoding them; only a full-snapshot TTL filter decodes (it must look
 * at timestamps).
 */
import { ByteWriter } from '../../format/bytes.ts';
import { deserializeValue, serializeValue } from '../../format/value-codec.ts';
import { canonicalKeyBytes } from '../../format/key-bytes.ts';
import { keyId } from '../../format/key-ids.ts';
import type { KeyGroupRange } from '../../format/key-groups.ts';
import { readKeyGroup, RemovedEntryWriter, type KeyedStateSnapshot } from '../../format/snapshot-format.ts';
import type { StoredRecord } from './database.ts';
import { keyOfPart, keyPartOf, type KeyPart, type RecordKey } from './layout.ts';

/** Drops stored elements (full-snapshot TTL cleanup); undefined keeps everything. */
export type Drop = ((stored: unknown) => boolean) | undefined;

/** Per key group: the entries, and (in a delta) the removed-entry markers. */
export class KeyGroupWriters {
  readonly entries = new Map<number, ByteWriter>();
  readonly removed = new Map<number, RemovedEntryWriter>();

  entry(kg: number): ByteWriter {
    let w = this.entries.get(kg);
    if (!w) this.entries.set(kg, (w = new ByteWriter()));
    return w;
  }

  remove(kg: number, stateIndex: number, key: KeyPart, namespace: string): void {
    let w = this.removed.get(kg);
    if (!w) this.removed.set(kg, (w = new RemovedEntryWriter()));
    w.add(stateIndex, canonicalKeyBytes(keyOfPart(key)), namespace);
  }

  finishEntries(): Map<number, Uint8Array> {
    const out = new Map<number, Uint8Array>();
    for (const [kg, w] of this.entries) if (w.length > 0) out.set(kg, w.finish());
    return out;
  }

  finishRemoved(): Map<number, Uint8Array> {
    const out = new Map<number, Uint8Array>();
    for (const [kg, w] of this.removed) if (w.length > 0) out.set(kg, w.finish());
    return out;
  }
}

function head(w: ByteWriter, stateIndex: number, key: KeyPart, namespace: string): void {
  w.varint(stateIndex);
  w.lenBytes(canonicalKeyBytes(keyOfPart(key)));
  w.string(namespace);
}

/**
 * Writes records (sorted by key, as IndexedDB returns them) as canonical entries.
 * Consecutive map-entry records of one (state, key, namespace) become one map entry.
 * Returns the (kg, stateIndex, key, namespace) of every entry that had records but was
 * left out entirely by the filter, so a delta can mark it removed.
 */
export function writeRecords(
  writers: KeyGroupWriters,
  keys: readonly IDBValidKey[],
  records: readonly StoredRecord[],
  stateIndex: ReadonlyMap<string, number>,
  shapes: readonly string[],
  drops: readonly Drop[],
): Array<[number, number, KeyPart, string]> {
  const dropped: Array<[number, number, KeyPart, string]> = [];
  const keep = (drop: Drop, bytes: Uint8Array) => drop === undefined || !drop(deserializeValue(bytes));
  for (let i = 0; i < keys.length; ) {
    const k = keys[i] as RecordKey;
    const index = stateIndex.get(k[2]);
    if (index === undefined) {
      i++;
      continue;
    }
    const drop = drops[index];
    const shape = shapes[index];
    if (shape === 'map') {
      // Gather the run of entries of this map.
      let j = i;
      const kept: number[] = [];
      while (j < keys.length) {
        const e = keys[j] as RecordKey;
        if (e.length !== 6 || e[1] !== k[1] || e[2] !== k[2] || e[3] !== k[3] || e[4] !== k[4]) break;
        if (keep(drop, records[j].v as Uint8Array)) kept.push(j);
        j++;
      }
      if (j === i) j = i + 1; // a malformed record; skip it
      if (kept.length === 0) dropped.push([k[1], index, k[3], k[4]]);
      else {
        const w = writers.entry(k[1]);
        head(w, index, k[3], k[4]);
        w.varint(kept.length);
        for (const at of kept) {
          w.lenBytes(canonicalKeyBytes(keyOfPart((keys[at] as RecordKey)[5]!)));
          w.bytes(records[at].v as Uint8Array);
        }
      }
      i = j;
      continue;
    }
    const v = records[i].v;
    if (shape === 'list') {
      const elements = drop === undefined ? (v as Uint8Array[]) : (v as Uint8Array[]).filter((e) => keep(drop, e));
      if (elements.length === 0) dropped.push([k[1], index, k[3], k[4]]);
      else {
        const w = writers.entry(k[1]);
        head(w, index, k[3], k[4]);
        w.varint(elements.length);
        for (const e of elements) w.bytes(e);
      }
    } else if (keep(drop, v as Uint8Array)) {
      const w = writers.entry(k[1]);
      head(w, index, k[3], k[4]);
      w.bytes(v as Uint8Array);
    } else dropped.push([k[1], index, k[3], k[4]]);
    i++;
  }
  return dropped;
}

/** One record to store on restore. */
export interface RestoredRecord {
  key: RecordKey;
  record: StoredRecord;
}

/**
 * The records of every entry of `snapshot` in key groups of `range`, for operator `op`.
 * Values are decoded by `readKeyGroup` and re-encoded one by one (records keep each
 * value's encoding on its own).
 */
export function* recordsOf(snapshot: KeyedStateSnapshot, range: KeyGroupRange, op: string): Generator<RestoredRecord> {
  for (const [kg, bytes] of snapshot.keyGroups) {
    if (!range.contains(kg)) continue;
    for (const entry of readKeyGroup(bytes, snapshot.states)) {
      const state = snapshot.states[entry.stateIndex].name;
      const key = keyPartOf(keyId(entry.key));
      if (entry.shape === 'value') yield { key: [op, kg, state, key, entry.namespace], record: { v: serializeValue(entry.value) } };
      else if (entry.shape === 'list') {
        if (entry.values.length > 0) yield { key: [op, kg, state, key, entry.namespace], record: { v: entry.values.map(serializeValue) } };
      } else
        for (const [userKey, value] of entry.entries)
          yield { key: [op, kg, state, key, entry.namespace, keyPartOf(keyId(userKey))], record: { v: serializeValue(value) } };
    }
  }
}
