/**
 * Record batches as bytes, for the channels between workers (remote-channel.ts): one
 * ArrayBuffer per batch, transferred instead of structured-cloned.
 *
 * Records of one shape are cut into columns (batch-columns.ts): property names written
 * once per batch, one form per column. Keys that are a string column of the values
 * (`keyBy(e => e.k)`) are not written again.
 * Encode + decode against `structuredClone` of the same batch (keys, key groups and
 * timestamps included), per record: 0.23–0.29 µs vs 0.35–0.47 µs at 1,024 records on a
 * quiet moment, 0.5 vs 1.7–2.0 µs under heavy load; about equal at 32 records.
 * No fresh buffers per batch (a float run goes through one kept scratch array, the
 * bytes into a buffer the peer gave back): 4,096 such records encoded in 0.106 µs each
 * instead of 0.14 (Node 20, quiet), the rest of the old cost being page faults.
 * Since then (wire version 2: no Set per batch where a number column proves the records
 * distinct, internalized names and one store site per name when decoding, key groups as
 * a 16-bit run): encode 110 → 53 ns and decode 117 → 57 ns per record of the bench's
 * `{k, v}` batch (977 batches of 1,024, min of 21 rounds, load 5; bench/README.md).
 *
 * Exactness: every column form decodes to the same values of the same types (numbers as
 * float64 keep -0 and NaN; the codec keeps its kinds exactly). What the codec refuses
 * (class instances, functions, cycles, symbol keys) makes {@link encodeBatch} return
 * undefined and the batch goes by structured clone as before. A record object occurring
 * twice in a batch also goes by structured clone, which keeps the two the same object;
 * inside one record, the codec writes values as trees (as it does for state), so an
 * object shared by two fields of one record arrives as two equal objects.
 */
import { ByteReader, ByteWriter } from '../format/bytes.ts';
import type { Key } from '../format/key-bytes.ts';
import { C_KEYS_FROM, W_CODEC, W_DISTINCT, readColumn, readF64s, readU16s, writeColumn, writeF64s, writeU16s } from './batch-columns.ts';
import type { RecordBatch } from '../engine/operators/operator.ts';

/**
 * Batches smaller than this go by structured clone: the column bookkeeping (shape
 * check, joins, one ArrayBuffer) only pays off over many records. Measured on the
 * `{k, v}` batch: at 32 records both ways cost about the same; from 128 on the columns win.
 */
export const MIN_BINARY_RECORDS = 64;

/**
 * The first byte of every encoded batch. Both ends run one build, so this never differs
 * in practice; it is there so that a change of layout read by an older reader fails as
 * corrupt input instead of being misread. 2: key groups as fixed 16-bit runs, short
 * string lengths as single bytes, the version byte itself.
 */
const WIRE_VERSION = 2;

const V_PRIMITIVES = 0;
const V_SHAPED = 1;

const F_TIMESTAMPS = 1;
const F_KEYS = 2;
const F_KEY_GROUPS = 4;

/** The records of a batch of one shape: its property names, and per name the values. */
interface Shaped {
  readonly shape: string[];
  readonly columns: unknown[][];
}

/**
 * The batch's records cut into columns, if all are plain objects with the same own
 * enumerable keys in the same order. Symbol-keyed properties are left out, as structured
 * clone leaves them out. One for-in per record both checks the shape and reads the
 * values: it allocates nothing (unlike Object.keys), and V8 reads `v[k]` inside it
 * through the enumeration cache, without a lookup. With the prototype being
 * Object.prototype, an inherited enumerable key (a polluted prototype) shows up as a
 * mismatch and the batch goes by structured clone.
 */
function shapedColumns(values: readonly unknown[]): Shaped | undefined {
  const first = values[0];
  if (typeof first !== 'object' || first === null || Object.getPrototypeOf(first) !== Object.prototype) return undefined;
  const shape = Object.keys(first);
  const m = shape.length;
  const n = values.length;
  const columns: unknown[][] = [];
  for (let j = 0; j < m; j++) columns.push(new Array<unknown>(n));
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype) return undefined;
    let j = 0;
    for (const k in v) {
      if (j === m || k !== shape[j]) return undefined;
      columns[j++]![i] = (v as Record<string, unknown>)[k];
    }
    if (j !== m) return undefined;
  }
  return { shape, columns };
}

/**
 * True if one object is two records of the batch (structured clone keeps them one
 * object). A Set of every record costs more than the rest of the encoding (identity
 * hashes of fresh objects), so {@link encodeBatch} asks only when no column proved the
 * records distinct.
 */
function repeatsAnObject(values: readonly unknown[]): boolean {
  let seen: Set<unknown> | undefined;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'object' || v === null) continue;
    seen ??= new Set();
    if (seen.has(v)) return true;
    seen.add(v);
  }
  return false;
}

/** The index of the string column equal to `keys` element by element, or -1. */
function columnEqualTo(columns: readonly unknown[][], keys: readonly Key[]): number {
  const n = keys.length;
  for (let j = 0; j < columns.length; j++) {
    const c = columns[j]!;
    if (typeof c[0] !== 'string') continue;
    let i = 0;
    while (i < n && c[i] === keys[i]) i++;
    if (i === n) return j;
  }
  return -1;
}

const writer = new ByteWriter(1 << 16);

const newBuffer = (length: number): ArrayBuffer => new ArrayBuffer(length);

/**
 * The batch as bytes, or undefined when it should go by structured clone (too small, a
 * record object repeated, or a value the codec refuses). The bytes are a view on the
 * buffer `take(length)` gives (at least `length` bytes, by default a new one): a sender
 * passes buffers its peer gave back (see {@link BufferPool}) and transfers the whole buffer.
 *
 * Repeated records: two records that are one object read the same from every property,
 * so a number column that strictly increases (a sequence number, an event time) or
 * decreases proves them all distinct, and only batches without one pay for the Set.
 * (A getter answering differently on each read could defeat that proof; such getters
 * already make any order of reading, and so this codec, differ from structured clone.)
 */
export function encodeBatch(batch: RecordBatch, take: (length: number) => ArrayBuffer = newBuffer): Uint8Array | undefined {
  const { values, timestamps, keys, keyGroups } = batch;
  const n = values.length;
  if (n < MIN_BINARY_RECORDS) return undefined;
  const shaped = shapedColumns(values);
  const w = writer;
  try {
    w.u8(WIRE_VERSION);
    w.varint(n);
    w.u8((timestamps ? F_TIMESTAMPS : 0) | (keys ? F_KEYS : 0) | (keyGroups ? F_KEY_GROUPS : 0));
    let columns: unknown[][];
    let distinct = false;
    if (shaped === undefined) {
      w.u8(V_PRIMITIVES);
      columns = [values as unknown[]];
      // Numbers, strings or booleans only: no object to repeat.
      distinct = writeColumn(w, values) !== W_CODEC;
    } else {
      w.u8(V_SHAPED);
      w.varint(shaped.shape.length);
      for (const k of shaped.shape) w.string(k);
      columns = shaped.columns;
      for (const col of columns) if (writeColumn(w, col) === W_DISTINCT) distinct = true;
    }
    if (!distinct && repeatsAnObject(values)) {
      w.truncate(0);
      return undefined;
    }
    if (timestamps) writeF64s(w, timestamps);
    if (keyGroups) writeU16s(w, keyGroups);
    if (keys) {
      const from = columnEqualTo(columns, keys);
      if (from >= 0) {
        w.u8(C_KEYS_FROM);
        w.varint(from);
      } else {
        writeColumn(w, keys);
      }
    }
  } catch {
    // The codec refused a value: structured clone decides (and reports) instead.
    w.truncate(0);
    return undefined;
  }
  return w.finishInto(take);
}

/**
 * A property name as V8's internalized string: names decoded from bytes are fresh
 * strings, and storing under one makes every store look the name up again (measured
 * ~8× slower record building); a name that was a property key once is the table's own.
 */
function internalized(name: string): string {
  return Object.keys({ [name]: 0 })[0] ?? name;
}

/**
 * The records of a shaped batch, from its columns. Shapes of up to four names (most
 * records) get a loop of their own, so that each store site always sees one name and
 * stays a fast, monomorphic store; "__proto__" as a name takes the general path, which
 * defines it as an own property rather than setting the prototype.
 */
function buildRecords(shape: readonly string[], columns: readonly unknown[][], n: number): unknown[] {
  const values = new Array<unknown>(n);
  if (!shape.includes('__proto__')) {
    const [k0, k1, k2, k3] = shape as [string, string, string, string];
    const [c0, c1, c2, c3] = columns as [unknown[], unknown[], unknown[], unknown[]];
    type O = Record<string, unknown>;
    switch (shape.length) {
      case 1:
        for (let i = 0; i < n; i++) {
          const o: O = {};
          o[k0] = c0[i];
          values[i] = o;
        }
        return values;
      case 2:
        for (let i = 0; i < n; i++) {
          const o: O = {};
          o[k0] = c0[i];
          o[k1] = c1[i];
          values[i] = o;
        }
        return values;
      case 3:
        for (let i = 0; i < n; i++) {
          const o: O = {};
          o[k0] = c0[i];
          o[k1] = c1[i];
          o[k2] = c2[i];
          values[i] = o;
        }
        return values;
      case 4:
        for (let i = 0; i < n; i++) {
          const o: O = {};
          o[k0] = c0[i];
          o[k1] = c1[i];
          o[k2] = c2[i];
          o[k3] = c3[i];
          values[i] = o;
        }
        return values;
    }
  }
  for (let i = 0; i < n; i++) {
    const o: Record<string, unknown> = {};
    for (let j = 0; j < shape.length; j++) {
      const k = shape[j]!;
      if (k === '__proto__') Object.defineProperty(o, k, { value: columns[j]![i], writable: true, enumerable: true, configurable: true });
      else o[k] = columns[j]![i];
    }
    values[i] = o;
  }
  return values;
}

/** The inverse of {@link encodeBatch}; it copies everything out, so the buffer may be reused afterwards. */
export function decodeBatch(bytes: Uint8Array | ArrayBuffer): RecordBatch {
  const r = new ByteReader(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), 'executor:workers');
  const version = r.u8();
  if (version !== WIRE_VERSION) r.corrupt(`record batch of wire version ${version}, this build reads ${WIRE_VERSION}`);
  const n = r.varint();
  const flags = r.u8();
  const layout = r.u8();
  const columns: unknown[][] = [];
  let values: unknown[];
  if (layout === V_PRIMITIVES) {
    values = readColumn(r, n, r.u8());
    columns.push(values);
  } else {
    const shape: string[] = [];
    for (let j = r.varint(); j > 0; j--) shape.push(internalized(r.string()));
    for (let j = 0; j < shape.length; j++) columns.push(readColumn(r, n, r.u8()));
    values = buildRecords(shape, columns, n);
  }
  let timestamps: number[] | undefined;
  if (flags & F_TIMESTAMPS) {
    timestamps = new Array(n);
    readF64s(r, n, timestamps);
  }
  // Plain arrays, as the sending side makes them (NetworkOutput), so that the consumer's reads see one kind.
  const keyGroups = flags & F_KEY_GROUPS ? readU16s(r, n) : undefined;
  let keys: Key[] | undefined;
  if (flags & F_KEYS) {
    const kind = r.u8();
    if (kind === C_KEYS_FROM) {
      const from = r.varint();
      const column = columns[from];
      if (column === undefined) return r.corrupt(`keys from column ${from} of ${columns.length}`);
      // A shaped batch's columns are garbage once its records are built, so the keys take
      // theirs as it is; the values array itself is copied (the two must not be one array).
      keys = (column === values ? column.slice() : column) as Key[];
    } else {
      keys = readColumn(r, n, kind) as Key[];
    }
  }
  if (!r.done) r.corrupt(`${r.remaining} trailing bytes after a record batch`);
  const batch: { values: unknown[]; timestamps: number[] | undefined; keys?: Key[]; keyGroups?: number[] } = { values, timestamps };
  if (keys) batch.keys = keys;
  if (keyGroups) batch.keyGroups = keyGroups;
  return batch;
}

/**
 * Buffers of encoded batches that came back from the peer that decoded them, for the
 * next batches to be encoded into (see {@link encodeBatch}): a transferred buffer is
 * otherwise garbage on the receiving side, and every new one pays its page faults on
 * the sending side. Holds at most `max` buffers; a request no free buffer fits gets a
 * new one with some room to spare, so that the next, slightly larger batch fits too.
 */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  /** Requests served with a given-back buffer, and with a new one (statistics and tests). */
  reused = 0;
  allocated = 0;

  constructor(private readonly max: number) {}

  /** A buffer of at least `length` bytes. */
  readonly take = (length: number): ArrayBuffer => {
    const free = this.free;
    for (let i = free.length - 1; i >= 0; i--) {
      const b = free[i]!;
      if (b.byteLength >= length) {
        free[i] = free[free.length - 1]!;
        free.pop();
        this.reused++;
        return b;
      }
    }
    // None fits: the smallest is the least useful from now on.
    if (free.length >= this.max) free.splice(free.indexOf(free.reduce((a, b) => (a.byteLength <= b.byteLength ? a : b))), 1);
    this.allocated++;
    return new ArrayBuffer(length + (length >> 3) + 1024);
  };

  /** Keeps a buffer for later (a detached or surplus one is dropped). */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength > 0 && this.free.length < this.max) this.free.push(buffer);
  }
}
