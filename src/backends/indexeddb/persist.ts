/**
 * The backend's bulk operations, each one or a few range requests: a snapshot (full or
 * delta) of the subtask's key-group range, restore from canonical snapshots in bounded
 * batches, native TTL cleanup through the expiry index, and listing a state's keys.
 */
import { deserializeValue } from '../../format/value-codec.ts';
import type { Key } from '../../format/key-bytes.ts';
import type { KeyedSnapshotOptions } from '../../state/backend.ts';
import type { SnapshotHead } from '../../state/keyed-backend-base.ts';
import type { KeyedStateSnapshot } from '../../format/snapshot-format.ts';
import type { IdbKeyedStateBackend } from './backend.ts';
import type { Coord, Table } from './cache.ts';
import { ENTRIES, EXPIRY_INDEX, transactionDone, type StoredRecord } from './database.ts';
import { idOf, keyOfPart, type RecordKey } from './layout.ts';
import { KeyGroupWriters, recordsOf, writeRecords, type Drop } from './snapshot.ts';

/**
 * A snapshot in canonical form, captured synchronously: the flush of dirty cells and the
 * reading transaction are both issued before the first await (see `backend.ts`).
 */
export async function takeSnapshot(
  b: IdbKeyedStateBackend,
  captured: { states: Table[]; head: SnapshotHead },
  options: KeyedSnapshotOptions,
): Promise<KeyedStateSnapshot> {
  b.check();
  // Capture, synchronously: the states (captured by the caller), their filters, the flush, the reading transaction.
  const { states: tables, head } = captured;
  const drops: Drop[] = tables.map((t) => t.options.snapshotFilter?.());
  const index = new Map(tables.map((t, i) => [t.name, i]));
  const shapes = tables.map((t) => t.shape);
  const delta = b.tracker.begin(options.checkpointId, options.incremental === true);
  const marked = delta
    ? [...b.tracker.marks].flatMap(([t, byNs]) => [...byNs].flatMap(([ns, byKey]) => [...byKey.values()].map((m) => ({ t, ns, at: m.at }))))
    : [];
  const flushed = b.flushWrites();
  const tx = b.db.transaction(ENTRIES, 'readonly');
  const store = tx.objectStore(ENTRIES);
  const writers = new KeyGroupWriters();
  if (!delta) {
    const keys = store.getAllKeys(b.rangeOfGroups());
    const values = store.getAll(b.rangeOfGroups());
    await Promise.all([flushed, transactionDone(tx, b.ctx(), 'read a snapshot')]);
    writeRecords(writers, keys.result, values.result as StoredRecord[], index, shapes, drops);
    return { ...head, keyGroups: writers.finishEntries() };
  }
  const reads = marked.map(({ t, ns, at }) => {
    if (t.shape === 'map') {
      const range = b.mapRange(t, ns, at);
      return { t, ns, at, keys: store.getAllKeys(range), values: store.getAll(range) };
    }
    return { t, ns, at, one: store.get(b.recordKey(t, ns, at)) };
  });
  await Promise.all([flushed, transactionDone(tx, b.ctx(), 'read a delta snapshot')]);
  for (const r of reads) {
    const i = index.get(r.t.name)!;
    const keys = 'one' in r ? (r.one!.result === undefined ? [] : [b.recordKey(r.t, r.ns, r.at)]) : r.keys!.result;
    const values = 'one' in r ? (r.one!.result === undefined ? [] : [r.one!.result]) : r.values!.result;
    if (keys.length === 0) writers.remove(r.at.kg, i, r.at.part, r.ns);
    for (const [kg, s, part, ns] of writeRecords(writers, keys, values as StoredRecord[], index, shapes, drops)) writers.remove(kg, s, part, ns);
  }
  return { ...head, keyGroups: writers.finishEntries(), incremental: { baseCheckpointId: b.tracker.base!, removed: writers.finishRemoved() } };
}

/** Loads checked snapshots, whose states are registered, (the key groups of this subtask) in bounded batches, one transaction each. */
export async function loadSnapshots(b: IdbKeyedStateBackend, snapshots: readonly KeyedStateSnapshot[]): Promise<void> {
  b.check();
  // Bounded batches, each one transaction: a large snapshot never sits in memory twice.
  let batch: Array<{ key: RecordKey; record: StoredRecord }> = [];
  const write = async () => {
    if (batch.length === 0) return;
    const tx = b.db.transaction(ENTRIES, 'readwrite', { durability: 'relaxed' });
    const store = tx.objectStore(ENTRIES);
    for (const { key, record } of batch) store.put(record, key);
    batch = [];
    b.mayHaveStored = true;
    await transactionDone(tx, b.ctx(), 'restore a snapshot');
  };
  for (const s of snapshots) {
    for (const r of recordsOf(s, b.keyGroupRange, b.op)) {
      batch.push(r);
      b.stored(b.stateOf(r.key[2])!, idOf(r.key[3]));
      if (batch.length >= b.limits.restoreBatch) await write();
    }
  }
  await write();
  b.evict();
}

/**
 * Native TTL cleanup: deletes expired records found through the `expiry` index (nothing
 * to do when no state has TTL). One `getAll` over the index and then pipelined deletes,
 * not a cursor: a cursor step is a round trip to the browser's IndexedDB process, and
 * thousands of them took seconds.
 */
export async function deleteExpired(b: IdbKeyedStateBackend): Promise<void> {
  let clock: { now(): number } | undefined;
  for (const t of b.registeredStates()) if ((clock = t.options.expiry) !== undefined) break;
  if (clock === undefined) return; // no state with TTL: nothing can expire
  const now = clock.now();
  const tx = b.db.transaction(ENTRIES, 'readwrite', { durability: 'relaxed' });
  const done = transactionDone(tx, b.ctx(), 'delete expired state');
  const store = tx.objectStore(ENTRIES);
  const range = b.env.keyRange.bound([b.op, -Infinity], [b.op, now]);
  const index = store.index(EXPIRY_INDEX);
  const keysRequest = index.getAllKeys(range);
  const valuesRequest = index.getAll(range);
  // Requests complete in order, so the keys are there when the values arrive; the transaction is still active here.
  valuesRequest.onsuccess = () => {
    const keys = keysRequest.result as RecordKey[];
    const records = valuesRequest.result as StoredRecord[];
    keys.forEach((key, i) => {
      const t = b.stateOf(key[2]);
      const expiry = t?.options.expiry;
      if (t === undefined || expiry === undefined || !b.keyGroupRange.contains(key[1])) return;
      const at: Coord = { kid: idOf(key[3]), kg: key[1], part: key[3] };
      if (t.shape === 'list') {
        const all = records[i].v as Uint8Array[];
        const deadlines = all.map((e) => expiry.expiryOf(deserializeValue(e)));
        const kept = all.filter((_, j) => deadlines[j] > now);
        if (kept.length === 0) store.delete(key);
        else store.put({ v: kept, x: [b.op, Math.min(...deadlines.filter((d) => d > now))] }, key);
      } else store.delete(key);
      b.tracker.mark(t, key[4], at);
      // The cached copy (clean: everything was flushed first) may hold what was just removed.
      const cached = t.shape === 'map' ? t.maps.get(key[4]) : t.cells.get(key[4]);
      if (cached?.get(at.kid)?.dirty === false) cached.delete(at.kid);
    });
  };
  await done;
}

/** The keys with state `stateName` in `namespace`, over this subtask's key-group range (dirty cells flushed first). */
export async function* listKeys(b: IdbKeyedStateBackend, stateName: string, namespace: string): AsyncIterable<Key> {
  await b.flushWrites();
  if (b.stateOf(stateName) === undefined || !b.mayHaveStored) return;
  const tx = b.db.transaction(ENTRIES, 'readonly');
  // One request over the whole range (other states' keys are skipped here): a request per
  // key group costs a round trip each, which dominated in Chromium.
  const request = tx.objectStore(ENTRIES).getAllKeys(b.rangeOfGroups());
  await transactionDone(tx, b.ctx(stateName), 'list keys');
  let last: RecordKey | undefined;
  for (const k of request.result as RecordKey[]) {
    if (k[2] !== stateName || k[4] !== namespace) continue;
    // Map entries of one key are adjacent: yield the key once.
    if (last !== undefined && last[1] === k[1] && last[3] === k[3]) continue;
    last = k;
    yield keyOfPart(k[3]);
  }
}
