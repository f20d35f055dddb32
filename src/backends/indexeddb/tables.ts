/**
 * The value, list and map tables of the IndexedDB backend: encoding on the way in
 * (every stored value is a private copy in the canonical encoding, so user code changing
 * its object later changes nothing), decoding on the way out (every read is a fresh
 * object), and the TTL deadline of each record for the `expiry` index.
 */
import { deserializeValue, serializeValue } from '../../format/value-codec.ts';
import { keyFromId, keyId } from '../../format/key-ids.ts';
import type { Key } from '../../format/key-bytes.ts';
import type { ListTable, MapTable, MaybePromise, ValueTable } from '../../state/backend.ts';
import { andThen } from '../../state/maybe-promise.ts';
import type { IdbKeyedStateBackend } from './backend.ts';
import type { Table } from './cache.ts';
import type { StoredRecord } from './database.ts';
import { residentCell, residentEntries, residentMap } from './resident.ts';

/** `x` of a record: `[operatorId, deadline]` when native TTL cleanup is on for the table. */
function expiryField(b: IdbKeyedStateBackend, t: Table, values: readonly unknown[]): Pick<StoredRecord, 'x'> {
  const expiry = t.options.expiry;
  if (expiry === undefined || values.length === 0) return {};
  let min = Infinity;
  for (const v of values) min = Math.min(min, expiry.expiryOf(v));
  return { x: [b.op, min] };
}

/** The table of a value, reducing or aggregating state. */
export function valueTable<T>(b: IdbKeyedStateBackend, t: Table): ValueTable<T> {
  return {
    resident: (ns) => residentCell(b, t, ns),
    get: (ns) => andThen(b.readCell(t, ns, b.coord()), (rec) => (rec === undefined ? undefined : (deserializeValue(rec.v as Uint8Array) as T))),
    put: (ns, value) => b.writeCell(t, ns, b.coord(), { v: serializeValue(value), ...expiryField(b, t, [value]) }),
    remove: (ns) => b.writeCell(t, ns, b.coord(), undefined),
  };
}

/** The table of a list state; a list is one record of encoded elements. */
export function listTable<T>(b: IdbKeyedStateBackend, t: Table): ListTable<T> {
  const decodeAll = (rec: StoredRecord) => (rec.v as Uint8Array[]).map((e) => deserializeValue(e));
  const append = (ns: string, values: readonly T[]): MaybePromise<void> => {
    if (values.length === 0) return;
    const encoded = values.map((v) => serializeValue(v));
    const at = b.coord();
    return andThen(b.readCell(t, ns, at), (rec) => {
      if (rec === undefined) return b.writeCell(t, ns, at, { v: encoded, ...expiryField(b, t, values) });
      // Records are private (IndexedDB clones on put and on read), so appending in place is safe.
      const all = rec.v as Uint8Array[];
      for (const e of encoded) all.push(e);
      const x =
        t.options.expiry === undefined
          ? {}
          : rec.x === undefined
            ? expiryField(b, t, decodeAll(rec))
            : { x: [b.op, Math.min(rec.x[1], expiryField(b, t, values).x![1])] as [string, number] };
      return b.writeCell(t, ns, at, { v: all, ...x });
    });
  };
  return {
    resident: (ns) => residentCell(b, t, ns),
    get: (ns) => andThen(b.readCell(t, ns, b.coord()), (rec) => (rec === undefined ? undefined : (decodeAll(rec) as T[]))),
    add: (ns, value) => append(ns, [value]),
    addAll: (ns, values) => append(ns, values),
    update: (ns, values) =>
      b.writeCell(t, ns, b.coord(), values.length === 0 ? undefined : { v: values.map((v) => serializeValue(v)), ...expiryField(b, t, values) }),
    remove: (ns) => b.writeCell(t, ns, b.coord(), undefined),
  };
}

/** The table of a map state; every entry is a record of its own. */
export function mapTable<V>(b: IdbKeyedStateBackend, t: Table): MapTable<V> {
  const record = (value: V): StoredRecord => ({ v: serializeValue(value), ...expiryField(b, t, [value]) });
  return {
    resident: (ns, userKey) => residentMap(b, t, ns, userKey === undefined ? undefined : keyId(userKey)),
    get: (ns, userKey) =>
      andThen(b.readMapEntry(t, ns, b.coord(), keyId(userKey)), (rec) => (rec === undefined ? undefined : (deserializeValue(rec.v as Uint8Array) as V))),
    put: (ns, userKey, value) => b.writeMapEntries(t, ns, b.coord(), [[keyId(userKey), record(value)]]),
    putAll: (ns, entries) =>
      entries.length === 0
        ? undefined
        : b.writeMapEntries(
            t,
            ns,
            b.coord(),
            entries.map(([k, v]) => [keyId(k), record(v)] as const),
          ),
    delete: (ns, userKey) => b.writeMapEntries(t, ns, b.coord(), [[keyId(userKey), undefined]]),
    contains: (ns, userKey) => andThen(b.readMapEntry(t, ns, b.coord(), keyId(userKey)), (rec) => rec !== undefined),
    isEmpty: (ns) =>
      residentMap(b, t, ns) ? residentEntries(b, t, ns).length === 0 : b.mapContents(t, ns, b.coord(), 1).then((entries) => entries.length === 0),
    entries: (ns) => {
      const at = b.coord();
      // Read when iteration starts (as the heap backend does), so an unconsumed iterable costs nothing.
      return iterate<V>(() => b.mapContents(t, ns, at));
    },
    syncEntries: (ns) => {
      // Core asks residentMap first; the check here keeps an overlay from passing for the whole map.
      if (!residentMap(b, t, ns)) throw b.failure('STATE_NOT_RESIDENT', 'the map is not in memory: it cannot be iterated synchronously', t.name);
      return decoded<V>(residentEntries(b, t, ns));
    },
    remove: (ns) => b.clearMap(t, ns, b.coord()),
  };
}

/** Decodes the entries of a resident map as they are consumed. */
function* decoded<V>(entries: Array<[ReturnType<typeof keyId>, StoredRecord]>): Generator<[Key, V]> {
  for (const [userKey, rec] of entries) yield [keyFromId(userKey), deserializeValue(rec.v as Uint8Array) as V];
}

/** Decodes the entries of a map as they are consumed (values stay encoded until then). */
async function* iterate<V>(contents: () => Promise<Array<[ReturnType<typeof keyId>, StoredRecord]>>): AsyncIterable<[Key, V]> {
  for (const [userKey, rec] of await contents()) yield [keyFromId(userKey), deserializeValue(rec.v as Uint8Array) as V];
}
