/**
 * The canonical value encoding used in snapshots.
 *
 * Snapshots written in one runtime must restore in every other, and the same state must
 * always produce the same bytes (checksums and incremental deltas compare them). So the
 * encoding depends only on the value: numbers go out as IEEE-754 big-endian or zigzag
 * varints, strings as UTF-8, multi-byte typed arrays as little-endian elements, and
 * object properties in `Object.keys` order.
 *
 * Each value is one tag byte followed by its payload:
 *
 * | tag | value | payload |
 * |---|---|---|
 * | 0x00 | undefined | – |
 * | 0x01 | null | – |
 * | 0x02/0x03 | false/true | – |
 * | 0x04 | integer, abs < 2^52, not -0 | zigzag varint |
 * | 0x05 | other number | float64 BE |
 * | 0x06 | bigint | sign byte (0/1), varint length, magnitude BE |
 * | 0x07 | well-formed string | varint byte length, UTF-8 |
 * | 0x08 | string with lone surrogates | varint unit count, UTF-16LE units |
 * | 0x09 | array | varint count, values |
 * | 0x0A/0x0B | plain / null-prototype object | varint 2·count+f, then per property key and value; f=0: keys as varint-length UTF-8, f=1: keys as tagged strings (0x07/0x08) |
 * | 0x0C | Map | varint count, key/value pairs |
 * | 0x0D | Set | varint count, values |
 * | 0x0E | Date | float64 BE of getTime() |
 * | 0x0F | ArrayBuffer | varint length, bytes |
 * | 0x10 | Uint8Array | varint length, bytes |
 * | 0x11–0x1A | Int8, Uint8Clamped, Int16, Uint16, Int32, Uint32, Float32, Float64, BigInt64, BigUint64 arrays | varint byte length, elements LE |
 * | 0x1B | DataView | varint length, bytes |
 */

import { StateError } from '../api/errors.ts';
import { ByteReader, ByteWriter, corrupt } from './bytes.ts';

const T_UNDEFINED = 0x00;
const T_NULL = 0x01;
const T_FALSE = 0x02;
const T_TRUE = 0x03;
const T_INT = 0x04;
const T_F64 = 0x05;
const T_BIGINT = 0x06;
const T_STRING = 0x07;
const T_STRING16 = 0x08;
const T_ARRAY = 0x09;
const T_OBJECT = 0x0a;
const T_NULL_OBJECT = 0x0b;
const T_MAP = 0x0c;
const T_SET = 0x0d;
const T_DATE = 0x0e;
const T_ARRAYBUFFER = 0x0f;
const T_UINT8 = 0x10;
const T_DATAVIEW = 0x1b;

/** Constructors of the multi-byte and signed typed arrays, indexed by `tag - 0x11`. */
type ViewCtor = (new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView) & {
  readonly BYTES_PER_ELEMENT: number;
};
const TYPED: readonly ViewCtor[] = [
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
];
const T_TYPED_FIRST = 0x11;

const BAD = -1;
const BAD_SYMBOL_KEYS = -2;

/** Zigzag keeps `2·|n|` below 2^53, so integers up to this size stay exact varints. */
const MAX_ZIGZAG = 2 ** 52 - 1;
/**
 * Containers nested deeper than this are refused. The walkers recurse, and a snapshot
 * written where the stack is deep must still decode where it is shallow (browsers and
 * workerd differ), so the limit sits far below any engine's stack.
 */
const MAX_DEPTH = 256;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const RULE = 'state values must be structured data (plain objects, arrays, Map, Set, Date, primitives, bigint, Uint8Array)';

// ---------------------------------------------------------------------------------------
// What counts as a value

/** A failure deep inside a value; segments are collected while the stack unwinds. */
class Problem {
  readonly segments: string[] = [];
  constructor(
    readonly what: string,
    /** For cycles: depth of the ancestor the value points back to. */
    readonly cycleTarget = -1,
  ) {}
}

function at(e: unknown, segment: string): unknown {
  if (e instanceof Problem) e.segments.push(segment);
  return e;
}

function joinPath(segs: readonly string[]): string {
  // Paths of very deep values would drown the message; the ends are what help.
  if (segs.length > 24) return '$' + segs.slice(0, 12).join('') + '…' + segs.slice(-8).join('');
  return '$' + segs.join('');
}

function problemMessage(p: Problem): string {
  const segs = p.segments.slice().reverse();
  const what = p.cycleTarget >= 0 ? `a cyclic reference to ${joinPath(segs.slice(0, p.cycleTarget))}` : p.what;
  return `value at ${joinPath(segs)} is ${what}; ${RULE}`;
}

function toStateError(p: Problem): StateError {
  return new StateError('UNSERIALIZABLE_VALUE', problemMessage(p), { component: 'codec' });
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function propSegment(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function mapValueSegment(key: unknown, index: number): string {
  switch (typeof key) {
    case 'string':
      return `.get(${JSON.stringify(key)})`;
    case 'number':
    case 'boolean':
    case 'undefined':
      return `.get(${String(key)})`;
    case 'bigint':
      return `.get(${key}n)`;
  }
  return key === null ? '.get(null)' : `.values()[${index}]`;
}

function hasEnumerableSymbol(o: object): boolean {
  const symbols = Object.getOwnPropertySymbols(o);
  for (let i = 0; i < symbols.length; i++) {
    if (Object.prototype.propertyIsEnumerable.call(o, symbols[i]!)) return true;
  }
  return false;
}

/** The tag an object encodes as, or BAD / BAD_SYMBOL_KEYS. One place, so every walker agrees. */
function kindOf(o: object): number {
  const proto: unknown = Object.getPrototypeOf(o);
  if (proto === Object.prototype) return hasEnumerableSymbol(o) ? BAD_SYMBOL_KEYS : T_OBJECT;
  if (proto === Array.prototype && Array.isArray(o)) return T_ARRAY;
  if (proto === null) return hasEnumerableSymbol(o) ? BAD_SYMBOL_KEYS : T_NULL_OBJECT;
  // Built-ins are recognised with instanceof so that subclasses (Node's Buffer is a
  // Uint8Array) are accepted; they decode as the base type.
  if (o instanceof Map) return T_MAP;
  if (o instanceof Set) return T_SET;
  if (o instanceof Date) return T_DATE;
  if (ArrayBuffer.isView(o)) {
    if (o instanceof Uint8Array) return T_UINT8;
    if (o instanceof DataView) return T_DATAVIEW;
    for (let i = 0; i < TYPED.length; i++) if (o instanceof TYPED[i]!) return T_TYPED_FIRST + i;
    return BAD;
  }
  if (o instanceof ArrayBuffer) return T_ARRAYBUFFER;
  return BAD;
}

function badObject(o: object, kind: number): Problem {
  if (kind === BAD_SYMBOL_KEYS) return new Problem('an object with symbol keys');
  const proto = Object.getPrototypeOf(o) as { constructor?: unknown } | null;
  const ctor = proto?.constructor;
  return new Problem(
    typeof ctor === 'function' && ctor.name ? `an instance of ${ctor.name}` : 'an object with a non-standard prototype',
  );
}

function badPrimitive(v: unknown): Problem {
  return new Problem(typeof v === 'function' ? 'a function' : 'a symbol');
}

// Containers on the path from the root to the value being visited; a repeat is a cycle.
// Scanning is linear in the depth, which for real state values is a handful.
const ancestors: unknown[] = [];

function enter(o: object, depth: number): void {
  if (depth >= MAX_DEPTH) throw new Problem(`nested more than ${MAX_DEPTH} levels deep`);
  for (let i = 0; i < depth; i++) if (ancestors[i] === o) throw new Problem('', i);
  ancestors[depth] = o;
}

/** Element bytes of a typed array in little-endian order, whatever the platform's. */
function littleEndianBytes(v: ArrayBufferView, size: number): Uint8Array {
  const raw = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return LITTLE_ENDIAN ? raw : swapped(raw.slice(), size);
}

function swapped(b: Uint8Array<ArrayBuffer>, size: number): Uint8Array<ArrayBuffer> {
  for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
  return b;
}

/** A copy of a view's bytes in a fresh, exactly-sized buffer. */
function copyBytes(v: ArrayBufferView): Uint8Array<ArrayBuffer> {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
}

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

function encBigint(w: ByteWriter, v: bigint): void {
  const negative = v < 0n;
  const mag = negative ? -v : v;
  w.u8(T_BIGINT);
  w.u8(negative ? 1 : 0);
  if (mag <= 0x1fffffffffffffn) {
    // Safe magnitudes avoid a hex string; powers of 256 are exact in float64.
    const m = Number(mag);
    let len = 0;
    for (let t = m; t > 0; t = Math.floor(t / 256)) len++;
    w.varint(len);
    for (let div = 256 ** (len - 1); div >= 1; div /= 256) w.u8(Math.floor(m / div) % 256);
    return;
  }
  let hex = mag.toString(16);
  if (hex.length & 1) hex = '0' + hex;
  w.varint(hex.length >> 1);
  for (let i = 0; i < hex.length; i += 2) w.u8(parseInt(hex.substr(i, 2), 16));
}

/** Writes a plain object's entries; false if a key needs the tagged form (see tags table). */
function encEntries(w: ByteWriter, o: object, keys: string[], depth: number, tagged: boolean): boolean {
  w.varint(keys.length * 2 + (tagged ? 1 : 0));
  let i = 0;
  try {
    for (; i < keys.length; i++) {
      const k = keys[i]!;
      if (tagged) encString(w, k);
      else if (!w.tryString(k)) return false;
      enc(w, (o as Record<string, unknown>)[k], depth + 1);
    }
  } catch (e) {
    throw at(e, propSegment(keys[i]!));
  }
  return true;
}

function encObject(w: ByteWriter, o: object, depth: number): void {
  const kind = kindOf(o);
  if (kind < 0) throw badObject(o, kind);
  switch (kind) {
    case T_ARRAY: {
      enter(o, depth);
      const a = o as unknown[];
      const n = a.length;
      w.u8(T_ARRAY);
      w.varint(n);
      let i = 0;
      try {
        for (; i < n; i++) enc(w, a[i], depth + 1);
      } catch (e) {
        throw at(e, `[${i}]`);
      }
      break;
    }
    case T_OBJECT:
    case T_NULL_OBJECT: {
      enter(o, depth);
      const keys = Object.keys(o);
      w.u8(kind);
      const start = w.length;
      if (!encEntries(w, o, keys, depth, false)) {
        w.truncate(start);
        encEntries(w, o, keys, depth, true);
      }
      break;
    }
    case T_MAP: {
      enter(o, depth);
      const m = o as Map<unknown, unknown>;
      w.u8(T_MAP);
      w.varint(m.size);
      let index = 0;
      let inKey = true;
      let key: unknown;
      try {
        for (const [k, v] of m) {
          key = k;
          inKey = true;
          enc(w, k, depth + 1);
          inKey = false;
          enc(w, v, depth + 1);
          index++;
        }
      } catch (e) {
        throw at(e, inKey ? `.keys()[${index}]` : mapValueSegment(key, index));
      }
      break;
    }
    case T_SET: {
      enter(o, depth);
      w.u8(T_SET);
      w.varint((o as Set<unknown>).size);
      let index = 0;
      try {
        for (const v of o as Set<unknown>) {
          enc(w, v, depth + 1);
          index++;
        }
      } catch (e) {
        throw at(e, `.values()[${index}]`);
      }
      break;
    }
    case T_DATE:
      w.u8(T_DATE);
      w.f64((o as Date).getTime());
      return;
    case T_ARRAYBUFFER:
      w.u8(T_ARRAYBUFFER);
      w.lenBytes(new Uint8Array(o as ArrayBuffer));
      return;
    case T_UINT8:
    case T_DATAVIEW: {
      const v = o as ArrayBufferView;
      w.u8(kind);
      w.lenBytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      return;
    }
    default:
      w.u8(kind);
      w.lenBytes(littleEndianBytes(o as ArrayBufferView, TYPED[kind - T_TYPED_FIRST]!.BYTES_PER_ELEMENT));
      return;
  }
  // Only containers reach here; forget them so the module does not keep them alive.
  ancestors[depth] = undefined;
}

function enc(w: ByteWriter, v: unknown, depth: number): void {
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
      encBigint(w, v);
      return;
    case 'object':
      if (v === null) w.u8(T_NULL);
      else encObject(w, v, depth);
      return;
    default:
      throw badPrimitive(v);
  }
}

/**
 * Appends the canonical encoding of `v` to `w`. Throws {@link StateError}
 * (`UNSERIALIZABLE_VALUE`) naming the path of the first unsupported part, and then
 * leaves `w` as it was before the call.
 */
export function encodeValue(w: ByteWriter, v: unknown): void {
  const start = w.length;
  try {
    enc(w, v, 0);
  } catch (e) {
    w.truncate(start);
    ancestors.length = 0;
    throw e instanceof Problem ? toStateError(e) : e;
  }
}

// ---------------------------------------------------------------------------------------
// Decoding

function decBigint(r: ByteReader): bigint {
  const sign = r.u8();
  if (sign > 1) corrupt('bigint sign byte out of range', r.offset - 1);
  const bytes = r.lenBytes();
  let mag: bigint;
  if (bytes.length <= 6) {
    let m = 0;
    for (let i = 0; i < bytes.length; i++) m = m * 256 + bytes[i]!;
    mag = BigInt(m);
  } else {
    let hex = '0x';
    for (let i = 0; i < bytes.length; i++) hex += (bytes[i]! < 16 ? '0' : '') + bytes[i]!.toString(16);
    mag = BigInt(hex);
  }
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

function setProperty(o: Record<string, unknown>, k: string, v: unknown): void {
  // Plain assignment to "__proto__" would change the prototype instead of adding data.
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

function dec(r: ByteReader, depth: number): unknown {
  const tag = r.u8();
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
    const size = Ctor.BYTES_PER_ELEMENT;
    const at = r.offset;
    const b = copyBytes(r.lenBytes());
    if (b.length % size !== 0) corrupt(`typed array of ${b.length} bytes is not a multiple of ${size}`, at);
    return new Ctor((LITTLE_ENDIAN ? b : swapped(b, size)).buffer, 0, b.length / size);
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
    case T_NULL_OBJECT: {
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
  return dec(r, 0);
}

// ---------------------------------------------------------------------------------------
// Checking and cloning, by the same rules

function check(v: unknown, depth: number): void {
  if (typeof v !== 'object') {
    if (typeof v === 'function' || typeof v === 'symbol') throw badPrimitive(v);
    return;
  }
  if (v === null) return;
  const kind = kindOf(v);
  if (kind < 0) throw badObject(v, kind);
  if (kind === T_ARRAY) {
    enter(v, depth);
    const a = v as unknown[];
    let i = 0;
    try {
      for (; i < a.length; i++) check(a[i], depth + 1);
    } catch (e) {
      throw at(e, `[${i}]`);
    }
  } else if (kind === T_OBJECT || kind === T_NULL_OBJECT) {
    enter(v, depth);
    const keys = Object.keys(v);
    let i = 0;
    try {
      for (; i < keys.length; i++) check((v as Record<string, unknown>)[keys[i]!], depth + 1);
    } catch (e) {
      throw at(e, propSegment(keys[i]!));
    }
  } else if (kind === T_MAP) {
    enter(v, depth);
    let index = 0;
    let inKey = true;
    let key: unknown;
    try {
      for (const [k, val] of v as Map<unknown, unknown>) {
        key = k;
        inKey = true;
        check(k, depth + 1);
        inKey = false;
        check(val, depth + 1);
        index++;
      }
    } catch (e) {
      throw at(e, inKey ? `.keys()[${index}]` : mapValueSegment(key, index));
    }
  } else if (kind === T_SET) {
    enter(v, depth);
    let index = 0;
    try {
      for (const val of v as Set<unknown>) {
        check(val, depth + 1);
        index++;
      }
    } catch (e) {
      throw at(e, `.values()[${index}]`);
    }
  } else {
    return;
  }
  ancestors[depth] = undefined;
}

/**
 * Whether `v` can be stored as state, without producing bytes.
 * @returns `undefined` if it can, else the message {@link encodeValue} would throw with.
 */
export function unserializableProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) {
    return typeof v === 'function' || typeof v === 'symbol' ? problemMessage(badPrimitive(v)) : undefined;
  }
  try {
    check(v, 0);
    return undefined;
  } catch (e) {
    ancestors.length = 0;
    if (e instanceof Problem) return problemMessage(e);
    throw e;
  }
}

function clone(v: unknown, depth: number): unknown {
  if (typeof v !== 'object') {
    if (typeof v === 'function' || typeof v === 'symbol') throw badPrimitive(v);
    return v;
  }
  if (v === null) return v;
  const kind = kindOf(v);
  if (kind < 0) throw badObject(v, kind);
  let out: unknown;
  switch (kind) {
    case T_ARRAY: {
      enter(v, depth);
      const a = v as unknown[];
      const copy: unknown[] = [];
      let i = 0;
      try {
        for (; i < a.length; i++) copy.push(clone(a[i], depth + 1));
      } catch (e) {
        throw at(e, `[${i}]`);
      }
      out = copy;
      break;
    }
    case T_OBJECT:
    case T_NULL_OBJECT: {
      enter(v, depth);
      const copy: Record<string, unknown> = kind === T_OBJECT ? {} : Object.create(null);
      const keys = Object.keys(v);
      let i = 0;
      try {
        for (; i < keys.length; i++) {
          const k = keys[i]!;
          setProperty(copy, k, clone((v as Record<string, unknown>)[k], depth + 1));
        }
      } catch (e) {
        throw at(e, propSegment(keys[i]!));
      }
      out = copy;
      break;
    }
    case T_MAP: {
      enter(v, depth);
      const copy = new Map<unknown, unknown>();
      let index = 0;
      let inKey = true;
      let key: unknown;
      try {
        for (const [k, val] of v as Map<unknown, unknown>) {
          key = k;
          inKey = true;
          const ck = clone(k, depth + 1);
          inKey = false;
          copy.set(ck, clone(val, depth + 1));
          index++;
        }
      } catch (e) {
        throw at(e, inKey ? `.keys()[${index}]` : mapValueSegment(key, index));
      }
      out = copy;
      break;
    }
    case T_SET: {
      enter(v, depth);
      const copy = new Set<unknown>();
      let index = 0;
      try {
        for (const val of v as Set<unknown>) {
          copy.add(clone(val, depth + 1));
          index++;
        }
      } catch (e) {
        throw at(e, `.values()[${index}]`);
      }
      out = copy;
      break;
    }
    case T_DATE:
      return new Date((v as Date).getTime());
    case T_ARRAYBUFFER:
      return (v as ArrayBuffer).slice(0);
    case T_UINT8:
      return copyBytes(v as ArrayBufferView);
    case T_DATAVIEW:
      return new DataView(copyBytes(v as ArrayBufferView).buffer);
    default: {
      const Ctor = TYPED[kind - T_TYPED_FIRST]!;
      const view = v as ArrayBufferView;
      return new Ctor(copyBytes(view).buffer, 0, view.byteLength / Ctor.BYTES_PER_ELEMENT);
    }
  }
  ancestors[depth] = undefined;
  return out;
}

/**
 * A deep copy of `v` by the encoding's rules (so `cloneValue(v)` equals
 * `deserializeValue(serializeValue(v))`): holes become undefined, subclasses of built-ins
 * become the built-in, shared references are copied separately. Primitives are returned
 * as they are. Throws {@link StateError} (`UNSERIALIZABLE_VALUE`) like {@link encodeValue}.
 */
export function cloneValue<T>(v: T): T {
  if (typeof v !== 'object' || v === null) {
    if (typeof v === 'function' || typeof v === 'symbol') throw toStateError(badPrimitive(v));
    return v;
  }
  try {
    return clone(v, 0) as T;
  } catch (e) {
    ancestors.length = 0;
    throw e instanceof Problem ? toStateError(e) : e;
  }
}

// ---------------------------------------------------------------------------------------
// Convenience

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
