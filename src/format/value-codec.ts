/**
 * The canonical value encoding used in snapshots: writing a value's bytes (a walk over
 * the value, see `value-walk.ts`) and reading them back. The tags and their payloads are
 * listed in `value-kinds.ts`.
 */
import { ByteReader, ByteWriter, corrupt, isWellFormed, magnitudeOf } from './bytes.ts';
import {
  MAX_DEPTH,
  T_ARRAY,
  T_ARRAYBUFFER,
  T_BIGINT,
  T_DATAVIEW,
  T_DATE,
  T_F64,
  T_FALSE,
  T_INT,
  T_MAP,
  T_NULL,
  T_NULL_OBJECT,
  T_OBJECT,
  T_SET,
  T_STRING,
  T_STRING16,
  T_TRUE,
  T_TYPED_FIRST,
  T_UINT8,
  T_UNDEFINED,
  TYPED,
  copyBytes,
  fromLittleEndian,
  littleEndianBytes,
  setProperty,
} from './value-kinds.ts';
import { Problem, ValueWalk, badPrimitive, toStateError, type Primitive } from './value-walk.ts';

/** Zigzag keeps `2·|n|` below 2^53, so integers up to this size stay exact varints. */
const MAX_ZIGZAG = 2 ** 52 - 1;

// ---------------------------------------------------------------------------------------
// Encoding

function encNumber(w: ByteWriter, v: number): void {
  // -0 must stay a float: the zigzag form has only one zero.
  if (Number.isInteger(v) && v <= MAX_ZIGZAG && v >= -MAX_ZIGZAG && (v !== 0 || 1 / v > 0)) {
    w.u8(T_INT);
    w.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  } else {
    w.u8(T_F64);
    w.f64(v);
  }
}

function encString(w: ByteWriter, s: string): void {
  const start = w.length;
  w.u8(T_STRING);
  if (w.tryString(s)) return;
  // A lone surrogate has no UTF-8 form; keep the code units so the string survives.
  w.truncate(start);
  w.u8(T_STRING16);
  w.varint(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    w.u8(c & 0xff);
    w.u8(c >>> 8);
  }
}

function encPrimitive(w: ByteWriter, v: Primitive): void {
  switch (typeof v) {
    case 'number':
      encNumber(w, v);
      return;
    case 'string':
      encString(w, v);
      return;
    case 'boolean':
      w.u8(v ? T_TRUE : T_FALSE);
      return;
    case 'undefined':
      w.u8(T_UNDEFINED);
      return;
    case 'bigint':
      w.u8(T_BIGINT);
      w.u8(v < 0n ? 1 : 0);
      w.magnitude(v < 0n ? -v : v);
      return;
    default:
      w.u8(T_NULL);
  }
}

/** A walk that writes the value's bytes; a container's box says whether its keys go as tagged strings. */
class Encoder extends ValueWalk<void, boolean> {
  constructor(private readonly w: ByteWriter) {
    super();
  }

  run(v: object): void {
    this.visit(v, 0);
  }

  protected override primitive(v: Primitive): void {
    encPrimitive(this.w, v);
  }

  protected override leaf(o: object, kind: number): void {
    const w = this.w;
    w.u8(kind);
    if (kind === T_DATE) {
      w.f64((o as Date).getTime());
    } else if (kind === T_ARRAYBUFFER) {
      w.lenBytes(new Uint8Array(o as ArrayBuffer));
    } else if (kind === T_UINT8 || kind === T_DATAVIEW) {
      const v = o as ArrayBufferView;
      w.lenBytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    } else {
      w.lenBytes(littleEndianBytes(o as ArrayBufferView, TYPED[kind - T_TYPED_FIRST]!.BYTES_PER_ELEMENT));
    }
  }

  protected override open(_o: object, kind: number, size: number, keys: readonly string[] | undefined): boolean {
    const w = this.w;
    w.u8(kind);
    if (keys === undefined) {
      w.varint(size);
      return false;
    }
    // A key with a lone surrogate has no UTF-8 form: then all keys go as tagged strings.
    let tagged = false;
    for (let i = 0; i < keys.length && !tagged; i++) tagged = !isWellFormed(keys[i]!);
    w.varint(size * 2 + (tagged ? 1 : 0));
    return tagged;
  }

  protected override propertyKey(tagged: boolean, key: string): void {
    if (tagged) encString(this.w, key);
    else this.w.string(key);
  }

  // The bytes are written as the walk goes: nothing is left to do per child or at the end.
  protected override element(): void {}
  protected override property(): void {}
  protected override entry(): void {}
  protected override member(): void {}
  protected override close(): void {}
}

/**
 * Appends the canonical encoding of `v` to `w`. Throws {@link StateError}
 * (`UNSERIALIZABLE_VALUE`) naming the path of the first unsupported part, and then
 * leaves `w` as it was before the call.
 */
export function encodeValue(w: ByteWriter, v: unknown): void {
  if (typeof v !== 'object' || v === null) {
    if (typeof v === 'function' || typeof v === 'symbol') throw toStateError(badPrimitive(v));
    encPrimitive(w, v as Primitive);
    return;
  }
  const start = w.length;
  try {
    new Encoder(w).run(v);
  } catch (e) {
    w.truncate(start);
    throw e instanceof Problem ? toStateError(e) : e;
  }
}

// ---------------------------------------------------------------------------------------
// Decoding

function decBigint(r: ByteReader): bigint {
  const sign = r.u8();
  if (sign > 1) corrupt('bigint sign byte out of range', r.offset - 1);
  const mag = magnitudeOf(r.lenBytes());
  return sign === 1 ? -mag : mag;
}

function decString16(r: ByteReader): string {
  const n = r.varint();
  const b = r.bytes(n * 2);
  let s = '';
  for (let i = 0; i < b.length; i += 2) s += String.fromCharCode(b[i]! | (b[i + 1]! << 8));
  return s;
}

function decCount(r: ByteReader, minBytesEach: number): number {
  const n = r.varint();
  // Refuse counts the remaining bytes cannot hold before allocating anything for them.
  if (n * minBytesEach > r.remaining) corrupt(`count ${n} exceeds the remaining data`, r.offset);
  return n;
}

function decObject(r: ByteReader, tag: number, depth: number): Record<string, unknown> {
  const header = r.varint();
  const tagged = header % 2 === 1;
  const n = (header - (tagged ? 1 : 0)) / 2;
  if (n * 2 > r.remaining) corrupt(`count ${n} exceeds the remaining data`, r.offset);
  const o: Record<string, unknown> = tag === T_OBJECT ? {} : Object.create(null);
  for (let i = 0; i < n; i++) {
    let k: string;
    if (tagged) {
      const kt = r.u8();
      if (kt === T_STRING) k = r.string();
      else if (kt === T_STRING16) k = decString16(r);
      else return corrupt('object key is not a string', r.offset - 1);
    } else {
      k = r.string();
    }
    setProperty(o, k, dec(r, depth + 1));
  }
  return o;
}

function dec(r: ByteReader, depth: number): unknown {
  return decTagged(r, r.u8(), depth);
}

function decTagged(r: ByteReader, tag: number, depth: number): unknown {
  switch (tag) {
    case T_UNDEFINED:
      return undefined;
    case T_NULL:
      return null;
    case T_FALSE:
      return false;
    case T_TRUE:
      return true;
    case T_INT: {
      const z = r.varint();
      return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    }
    case T_F64:
      return r.f64();
    case T_BIGINT:
      return decBigint(r);
    case T_STRING:
      return r.string();
    case T_STRING16:
      return decString16(r);
    case T_DATE:
      return new Date(r.f64());
    case T_ARRAYBUFFER:
      return copyBytes(r.lenBytes()).buffer;
    case T_UINT8:
      return copyBytes(r.lenBytes());
    case T_DATAVIEW:
      return new DataView(copyBytes(r.lenBytes()).buffer);
  }
  if (tag >= T_TYPED_FIRST && tag < T_TYPED_FIRST + TYPED.length) {
    const Ctor = TYPED[tag - T_TYPED_FIRST]!;
    const at = r.offset;
    const b = copyBytes(r.lenBytes());
    const size = Ctor.BYTES_PER_ELEMENT;
    if (b.length % size !== 0) corrupt(`typed array of ${b.length} bytes is not a multiple of ${size}`, at);
    return fromLittleEndian(Ctor, b);
  }
  if (depth >= MAX_DEPTH) corrupt(`containers nested more than ${MAX_DEPTH} levels deep`, r.offset - 1);
  switch (tag) {
    case T_ARRAY: {
      const n = decCount(r, 1);
      const a: unknown[] = [];
      for (let i = 0; i < n; i++) a.push(dec(r, depth + 1));
      return a;
    }
    case T_OBJECT:
    case T_NULL_OBJECT:
      return decObject(r, tag, depth);
    case T_MAP: {
      const n = decCount(r, 2);
      const m = new Map<unknown, unknown>();
      for (let i = 0; i < n; i++) {
        const k = dec(r, depth + 1);
        m.set(k, dec(r, depth + 1));
      }
      return m;
    }
    case T_SET: {
      const n = decCount(r, 1);
      const s = new Set<unknown>();
      for (let i = 0; i < n; i++) s.add(dec(r, depth + 1));
      return s;
    }
  }
  return corrupt(`unknown value tag 0x${tag.toString(16).padStart(2, '0')}`, r.offset - 1);
}

/** Reads one value written by {@link encodeValue}. Malformed input throws `SNAPSHOT_CORRUPT`. */
export function decodeValue(r: ByteReader): unknown {
  // Small integers (counters, sums) are the most common stored value: decoded here, this
  // small function inlines into a caller's loop (\`dec\` is recursive and does not).
  const tag = r.u8();
  if (tag === T_INT) {
    const z = r.varint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }
  return decTagged(r, tag, 0);
}

// ---------------------------------------------------------------------------------------
// Whole byte arrays

// One writer serves every serializeValue call; `busy` guards against re-entry from a
// getter that itself serialises.
const sharedWriter = new ByteWriter(1024);
let sharedBusy = false;

/** The canonical encoding of one value, as a fresh byte array. */
export function serializeValue(v: unknown): Uint8Array {
  if (sharedBusy) {
    const w = new ByteWriter();
    encodeValue(w, v);
    return w.finish();
  }
  sharedBusy = true;
  try {
    encodeValue(sharedWriter, v);
    return sharedWriter.finish();
  } finally {
    sharedBusy = false;
  }
}

/** The inverse of {@link serializeValue}; trailing or missing bytes throw `SNAPSHOT_CORRUPT`. */
export function deserializeValue(bytes: Uint8Array): unknown {
  const r = new ByteReader(bytes);
  const v = dec(r, 0);
  if (!r.done) corrupt(`${r.remaining} trailing bytes after the value`, r.offset);
  return v;
}
